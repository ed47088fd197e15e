//! The metrics store: one handle that loads, updates and persists a
//! [`metrics_types::DashboardState`] in a JSON file shared by many threads and processes, and
//! recovers by itself from corruption without losing anything it could still read.
//!
//! [`MetricsStore`] composes the two bottom layers and re-implements neither:
//! `metrics-types` for the schema, validation and the state transitions (recording, eviction,
//! roll-up), `atomic-fs` for the cross-process lock, durable atomic replace and the backup.
//! This crate owns the policy that joins them:
//!
//! - **updates** ([`MetricsStore::update`], [`MetricsStore::record_event`],
//!   [`MetricsStore::record_events`], [`MetricsStore::record_session`]) run under an
//!   in-process mutex and then the file lock, read the latest state, apply the change,
//!   refuse to add a finding, and write durably with the previous generation kept as a
//!   backup. The lock file is the Python dashboard's (`.agent_metrics.lock`), so both can
//!   write one store. A retried event is recognised by its id and never counted twice;
//! - **reads** ([`MetricsStore::load`]) take no lock and never write: a damaged file shows
//!   its backup, with a [`Fallback`] saying so;
//! - **recovery**, only under the lock (before a write, [`MetricsStore::recover`],
//!   [`MetricsStore::restore`]): a damaged file (by the Python dashboard's own rule) is kept
//!   aside (`NAME.corrupt-TIMESTAMP`) and the backup restored; only if the backup is unusable
//!   too does the store start afresh. Either way a [`Recovery`] says what happened;
//! - **faults**: each has a [`StoreError`] variant: lock timeout, I/O (with the path), a file
//!   from a newer format (read, never rewritten), a rejected or invalid update, and a handle
//!   poisoned by a failed flush;
//! - **observability**: [`MetricsStore::stats`] counts lock acquisitions and waits, timeouts,
//!   recoveries and bytes written.
//!
//! It does not print, parse arguments or pick exit codes (that is `metrics-cli`), and it
//! does not define the format (that is `metrics-types`).
//!
//! ```
//! use metrics_store::MetricsStore;
//!
//! let dir = tempfile::tempdir()?;
//! let store = MetricsStore::open(&dir.path().join(".agent_metrics.json"))?;
//! assert!(store.load()?.state.events().is_empty(), "a missing file is an empty state");
//! store.update(|state| {
//!     state.set_project_name("demo");
//!     Ok::<_, std::convert::Infallible>(())
//! })?;
//! assert_eq!(store.load()?.state.project_name(), "demo");
//! assert_eq!(store.stats().writes, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
pub use crate::error::StoreError;
pub use crate::journal::{
    CheckpointPolicy, DEFAULT_CHECKPOINT_AGE, DEFAULT_CHECKPOINT_ENTRIES, JournalReport,
};
pub use crate::recover::{Recovery, RecoveryAction, RestoreFrom};
pub use crate::stats::StoreStats;
pub use crate::store::{Fallback, Loaded, MetricsStore, TimedStore};
pub use crate::watch::{ChangeMarker, write_file_atomically};
