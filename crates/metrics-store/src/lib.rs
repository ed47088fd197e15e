#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod check;
mod config;
mod error;
mod journal;
#[cfg(all(test, loom))]
mod loom_model;
mod protocol;
mod recover;
mod stats;
mod store;
mod sync;
mod watch;

/// The file layer whose errors (`atomic_fs::Error`) and identities this store's API carries.
pub use atomic_fs;
/// The schema crate this store's API speaks (`DashboardState`, `AgentEvent`, ...), so a
/// user depends on `metrics-store` alone and never pins a second, mismatched version.
pub use metrics_types;

pub use crate::check::{CheckReport, FileCheck, Verdict};
pub use crate::config::{
    DEFAULT_FILE_NAME, DEFAULT_LOCK_TIMEOUT, DEFAULT_MAX_FILE_SIZE, Durability, StoreBuilder,
};
pub use crate::error::{ErrorClass, StoreError};
pub use crate::journal::{
    CheckpointPolicy, DEFAULT_CHECKPOINT_AGE, DEFAULT_CHECKPOINT_ENTRIES, JournalReport,
};
pub use crate::recover::{Recovery, RecoveryAction, RestoreFrom};
pub use crate::stats::StoreStats;
pub use crate::store::{Fallback, Loaded, MetricsStore, TimedStore};
pub use crate::watch::{ChangeMarker, write_file_atomically};
