//! Safe file replacement for data that many processes share: cross-process locks, durable
//! atomic replace, and a backup of the previous generation that costs almost nothing.
//!
//! The crate moves bytes and locks; it knows nothing about what the bytes mean. Its parts:
//!
//! - [`FileLock`]: an exclusive `flock` on a lock file beside the data, waited for in the
//!   kernel's queue until a per-call timeout ([`FileLock::lock`]) or not at all
//!   ([`FileLock::try_lock`]), released when the guard drops.
//! - [`replace`]: writes new contents to a temporary file, flushes it, renames it over the
//!   target and flushes the directory. Readers see the whole old or the whole new file, never
//!   a mix, without any lock. With [`Backup::PreviousGeneration`] the old generation is kept at
//!   [`backup_path`] by hard link, so the backup costs two metadata operations, not a second
//!   copy of the data.
//! - [`read`]: the whole current generation, bounded in size, with its [`FileIdentity`] so a
//!   writer can tell whether the file changed since it last wrote it.
//! - [`remove_stale_temps`]: removes temporary files left by writers that died (ours, and
//!   [`ForeignTemps`] of another program that shares the lock).
//! - [`journal`]: an append-only file of numbered, checksummed records, appended and flushed
//!   in one small write; a torn last record is told apart from damage.
//! - [`set_aside`] and [`move_aside`]: keep a file's contents under another name, never
//!   overwriting anything, before it is replaced or removed.
//!
//! With the `simulation` feature (tests only), `sim` adds a simulated disk that records every
//! call, injects I/O errors and enumerates what a crash or power loss can leave.
//!
//! Every failure is an [`Error`] carrying the path and the operation. A failed flush
//! ([`Error::Sync`]) is final: the caller must not retry it. The exact system calls and the
//! guarantees after a crash or power loss are in `docs/durability.md`.
//!
//! Unix only (Linux is the target; macOS is kept compiling where rustix allows). Other
//! platforms get a compile error rather than silently weaker guarantees.
//!
//! ```
//! use std::time::Duration;
//! use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig, replace};
//!
//! let dir = tempfile::tempdir()?;
//! let target = dir.path().join("counter");
//! let config = ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };
//!
//! let lock = FileLock::lock(&dir.path().join("counter.lock"), Duration::from_secs(10))?;
//! let old = atomic_fs::read(&target, 1024)?.map(|contents| contents.bytes).unwrap_or_default();
//! let n: u64 = String::from_utf8_lossy(&old).parse().unwrap_or(0);
//! replace(&target, (n + 1).to_string().as_bytes(), &config)?;
//! drop(lock);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
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
