#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod append;
mod error;
pub mod journal;
mod lock;
mod read;
mod replace;
pub mod segment;
#[cfg(feature = "simulation")]
pub mod sim;
mod sys;
mod temp;

use std::path::{Path, PathBuf};

pub use crate::error::{Error, Op};
pub use crate::lock::{DEFAULT_LOCK_MODE, FileLock};
pub use crate::read::{Contents, FileIdentity, identity, read};
pub use crate::replace::{
    Backup, Durability, ReplaceConfig, Replaced, backup_path, move_aside, remove, replace,
    replace_locked, replace_with_mode, set_aside, sync_directory_of,
};
pub use crate::temp::{ForeignTemps, remove_stale_temps};

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The effective user id of this process: whom files it creates belong to, and whose files
/// it may trust (a symbolic link planted by someone else is not).
pub fn effective_uid() -> u32 {
    sys::effective_uid()
}

/// Whether this process may create and remove files in `dir` (`access(W_OK | X_OK)`); the
/// error says why not.
pub fn check_dir_writable(dir: &std::path::Path) -> std::io::Result<()> {
    sys::check_dir_writable(dir)
}

/// Raises this process's soft limit on open descriptors to its hard limit; returns the soft
/// limit now (`None` when it cannot be read: unlimited for the caller's purposes).
pub fn raise_descriptor_limit() -> Option<u64> {
    sys::raise_descriptor_limit()
}
