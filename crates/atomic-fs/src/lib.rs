#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod error;
pub mod journal;
mod lock;
mod read;
mod replace;
#[cfg(feature = "simulation")]
pub mod sim;
mod sys;
mod temp;

use std::path::{Path, PathBuf};

pub use crate::error::{Error, Op};
pub use crate::lock::FileLock;
pub use crate::read::{Contents, FileIdentity, identity, read};
pub use crate::replace::{
    Backup, Durability, ReplaceConfig, Replaced, backup_path, move_aside, remove, replace,
    replace_locked, set_aside, sync_directory_of,
};
pub use crate::temp::{ForeignTemps, remove_stale_temps};

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}
