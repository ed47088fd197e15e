//! `Error`: every way a lock, a read or a replace can fail, each with its path.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// What the crate was doing when an I/O error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Opening or creating the lock file.
    OpenLock,
    /// Taking or releasing the lock.
    Lock,
    /// Reading the target.
    Read,
    /// Inspecting a path (stat).
    Inspect,
    /// Creating the temporary file beside the target.
    CreateTemp,
    /// Writing the new contents into the temporary file.
    Write,
    /// Renaming the temporary file over the target, or rotating the backup.
    Rename,
    /// Hard-linking the current generation as the next backup.
    Link,
    /// Removing a temporary file.
    Remove,
    /// Listing the directory for stale temporary files.
    ListDir,
    /// Appending a record to a journal.
    Append,
}

impl Op {
    fn describe(self) -> &'static str {
        match self {
            Op::OpenLock => "cannot open lock file",
            Op::Lock => "cannot lock",
            Op::Read => "cannot read",
            Op::Inspect => "cannot inspect",
            Op::CreateTemp => "cannot create temporary file",
            Op::Write => "cannot write temporary file",
            Op::Rename => "cannot rename into place",
            Op::Link => "cannot link backup",
            Op::Remove => "cannot remove",
            Op::ListDir => "cannot list directory",
            Op::Append => "cannot append to journal",
        }
    }
}

/// Why a lock, read or replace failed. The path is always the one a person would look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed; the target and its backup are as they were.
    #[error("{} {}: {source}{}", .op.describe(), .path.display(), hint(.source))]
    Io {
        /// What was being done.
        op: Op,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Flushing data to disk failed. This is final: after a failed fsync the kernel may have
    /// dropped the data and report the next fsync as a success, so the write is not retried.
    /// For a failed directory sync the new contents may already be visible but are not known
    /// to survive a power loss.
    #[error("cannot flush {} to disk: {source}; the write is abandoned and must not be retried", .path.display())]
    Sync {
        /// The file or directory being flushed.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The lock was held by someone else for longer than the caller would wait.
    #[error("timed out after {:.1}s waiting for the lock {} (another process holds it)", .waited.as_secs_f64(), .path.display())]
    LockTimeout {
        /// The lock file.
        path: PathBuf,
        /// How long the caller waited.
        waited: Duration,
    },
    /// The lock file was deleted or replaced while held, so the lock no longer excludes other
    /// writers; a [`crate::replace_locked`] was abandoned before its commit and changed
    /// nothing. Take the lock again and start over.
    #[error("the lock file {} was deleted or replaced while held; nothing was written", .path.display())]
    LockLost {
        /// The lock file.
        path: PathBuf,
    },
    /// A file changed between the read and the write that relied on it, although the writer
    /// held the lock: something wrote it without taking the lock. Nothing was written.
    #[error("{} changed while the lock was held (something writes it without taking the lock); nothing was written", .path.display())]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// A directory stands where a file should be.
    #[error("{} is a directory, not a file", .path.display())]
    IsDirectory {
        /// The path.
        path: PathBuf,
    },
    /// Something that is not a regular file (a FIFO, a socket, a device) stands where a file
    /// should be; it is refused before anything could block on it.
    #[error("{} is not a regular file (a FIFO, socket or device?); refusing to read or replace it", .path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A symbolic link stands where a regular file should be; it is never followed or replaced.
    #[error("{} is a symbolic link; refusing to follow or replace it", .path.display())]
    Symlink {
        /// The path.
        path: PathBuf,
    },
    /// The file is larger than the caller allows reading into memory.
    #[error("{} is {size} bytes, more than the limit of {limit} bytes", .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The caller's limit.
        limit: u64,
    },
}

impl Error {
    /// Whether the failure was a failed flush to disk, after which a writer must stop.
    pub fn is_sync_failure(&self) -> bool {
        matches!(self, Error::Sync { .. })
    }
}

/// A short suggestion for the errors people can fix.
fn hint(source: &io::Error) -> &'static str {
    match source.kind() {
        io::ErrorKind::NotFound => " (does the directory exist?)",
        io::ErrorKind::PermissionDenied => " (check the permissions of the file and its directory)",
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            " (the disk is full; the previous contents are unchanged)"
        }
        io::ErrorKind::ReadOnlyFilesystem => " (the file system is read-only)",
        _ => "",
    }
}

/// Attaches the operation and path to an `io::Error`.
pub(crate) trait IoResultExt<T> {
    fn context(self, op: Op, path: &std::path::Path) -> Result<T, Error>;
}

impl<T> IoResultExt<T> for io::Result<T> {
    fn context(self, op: Op, path: &std::path::Path) -> Result<T, Error> {
        self.map_err(|source| Error::Io { op, path: path.to_owned(), source })
    }
}
