//! The narrow seam between this crate and the operating system.
//!
//! Every file-system call the crate makes goes through [`FileSystem`] (files and directories)
//! or the lock functions re-exported here, in the order the callers spell out. The public
//! functions reach it through [`with_file_system`], which is the real one unless a test built
//! with the `simulation` feature installed [`crate::sim::Simulation`] on its thread: a file
//! system that records every call, models what is durable, injects errors and crashes.

use std::fs::File;
use std::io;
use std::path::Path;

#[cfg(unix)]
mod unix;

#[cfg(unix)]
pub(crate) use unix::{
    RealFileSystem, check_dir_writable, effective_uid, file_key, identity_of, is_same_file,
    is_symlink_loop, lock_exclusive, open_existing_lock_file, open_lock_file, process_is_alive,
    raise_descriptor_limit, try_lock_exclusive, unlock, write_at_start,
};

#[cfg(not(unix))]
compile_error!(
    "atomic-fs supports Unix (Linux, macOS) only: it relies on flock, O_NOFOLLOW, hard links \
     and directory fsync, and would be silently weaker without them"
);

/// What a path is, without following a symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    File,
    Directory,
    Symlink,
    Other,
}

/// The result of `lstat` on a path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Inspection {
    pub(crate) kind: FileKind,
    /// Permission bits (`0o7777`).
    pub(crate) mode: u32,
    pub(crate) identity: crate::FileIdentity,
}

/// The file-system calls of a replace, each a single system call with a contract.
pub(crate) trait FileSystem: Sync {
    /// Creates `path` exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC`) with exactly the
    /// permission bits `mode` (set with `fchmod`, so the umask cannot narrow them). Fails if
    /// anything, a symbolic link included, already exists at `path`.
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File>;
    /// Writes all of `bytes` at the file's current position.
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()>;
    /// Flushes the file's data and the metadata needed to read it back (`fdatasync`, or
    /// `F_FULLFSYNC` on macOS, through `File::sync_data`).
    fn sync_file(&self, file: &File) -> io::Result<()>;
    /// Creates a hard link `to` of `from` (`linkat` without following symlinks).
    fn link(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Atomically replaces `to` with `from` (`rename(2)`): readers see one or the other.
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes a directory, making the renames and links in it durable (`fsync` on the
    /// directory; see <https://lwn.net/Articles/457667/>).
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Removes a file (`unlink`).
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// `lstat`: what is at `path`, or `None` if nothing is.
    fn inspect(&self, path: &Path) -> io::Result<Option<Inspection>>;
    /// Opens `path` for reading without following a symbolic link.
    fn open_read(&self, path: &Path) -> io::Result<File>;
    /// Opens an existing `path` for appending (`O_APPEND`: every write lands at the end of
    /// the file as it is then, so two writers that both believe they hold the lock cannot
    /// overwrite each other's records), without following a symbolic link, creating or
    /// truncating anything.
    fn open_write(&self, path: &Path) -> io::Result<File>;
    /// Names of the entries of a directory.
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>>;
}

/// Runs `f` with the file system of this thread: the real one, or the simulation a test
/// installed (feature `simulation`).
pub(crate) fn with_file_system<R>(f: impl FnOnce(&dyn FileSystem) -> R) -> R {
    #[cfg(feature = "simulation")]
    if let Some(simulation) = crate::sim::installed() {
        return f(&*simulation);
    }
    f(&RealFileSystem)
}
