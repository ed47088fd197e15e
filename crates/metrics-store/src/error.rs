//! `StoreError`: why a load or an update failed, with the store's path in every message.

use std::path::PathBuf;
use std::time::Duration;

/// Why a store operation failed. Every variant names the file; none of them loses data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The lock stayed held by another writer for longer than the timeout; nothing changed.
    #[error("timed out after {:.1}s waiting for the lock on {} (another writer holds it; retry, or raise the lock timeout)", .waited.as_secs_f64(), .path.display())]
    LockTimeout {
        /// The metrics file.
        path: PathBuf,
        /// How long the call waited.
        waited: Duration,
    },
    /// Reading or writing failed at the file-system level (missing directory, permissions,
    /// disk full, a directory or symbolic link in the way, a file over the size limit). The
    /// file and its backup are as they were.
    #[error("metrics store {}: {source}", .path.display())]
    Io {
        /// The metrics file.
        path: PathBuf,
        /// What failed, with its own path.
        #[source]
        source: atomic_fs::Error,
    },
    /// A flush to disk failed earlier through this handle. Because a failed fsync cannot be
    /// retried safely, this handle refuses further writes; open a new one after checking the
    /// disk.
    #[error("metrics store {}: an earlier write failed to reach the disk; this handle refuses further writes", .path.display())]
    Poisoned {
        /// The metrics file.
        path: PathBuf,
    },
    /// The file was written by a newer version of the format; it is read but never rewritten.
    #[error("metrics store {} has format version {found}, newer than the supported {supported}; upgrade agent-metrics to write it", .path.display())]
    NewerFormat {
        /// The metrics file.
        path: PathBuf,
        /// The file's version.
        found: u64,
        /// The newest version this build writes.
        supported: u64,
    },
    /// The update function returned an error; nothing was written.
    #[error("update of {} rejected: {source}", .path.display())]
    Rejected {
        /// The metrics file.
        path: PathBuf,
        /// The update function's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The update would have produced an invalid state; nothing was written.
    #[error("update of {} would make it invalid: {source}", .path.display())]
    Invalid {
        /// The metrics file.
        path: PathBuf,
        /// Every rule it would break.
        #[source]
        source: metrics_types::ValidationError,
    },
    /// `create` found a metrics file (or its backup) already there; nothing was changed.
    #[error("{} already exists; refusing to replace it", .path.display())]
    AlreadyExists {
        /// The file that exists.
        path: PathBuf,
    },
    /// A restore was asked for but the backup cannot be used; nothing was changed.
    #[error("cannot restore from {}: {problem}", .path.display())]
    NoUsableBackup {
        /// The backup file.
        path: PathBuf,
        /// Why it cannot be used.
        problem: String,
    },
    /// The metrics file cannot be read and neither can its backup; a read changes nothing
    /// (run `agent-metrics recover --from` with a file kept aside, or a write starts afresh
    /// keeping both aside).
    #[error("metrics store {} cannot be read ({problem}) and neither can its backup ({backup_problem}); nothing was changed", .path.display())]
    Unreadable {
        /// The metrics file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
        /// What is wrong with its backup.
        backup_problem: String,
    },
    /// The write would make the file larger than a reader accepts; nothing was written.
    #[error("refusing to write {}: it would be {size} bytes, more than the write limit of {limit} (half the read limit, so the Python dashboard's indented rewrite stays readable)", .path.display())]
    TooLarge {
        /// The metrics file.
        path: PathBuf,
        /// The size the write would have.
        size: u64,
        /// The write limit.
        limit: u64,
    },
    /// Serialization produced no bytes; nothing was written (this is a bug).
    #[error("refusing to write an empty {}: serialization produced nothing", .path.display())]
    EmptyWrite {
        /// The metrics file.
        path: PathBuf,
    },
    /// A restore from the backup would discard the latest write of a file that loads; it
    /// needs `force`. Nothing was changed.
    #[error("{} loads fine; restoring its backup would discard {discarded} (the file would be kept aside; use --force to do it anyway)", .path.display())]
    RestoreWouldDiscard {
        /// The metrics file.
        path: PathBuf,
        /// What would be discarded, in words.
        discarded: String,
    },
    /// The file at the store's path was never a metrics store (no backup, journal or lock
    /// file beside it, and its bytes do not look like one): nothing was read as a store,
    /// nothing was changed, and no file was created beside it.
    #[error("{} is not a metrics store ({problem}) and has no backup, journal or lock file beside it; refusing to read it as one or replace it. Choose another path (--file, AGENT_METRICS_FILE), or move the file away if a store should live there", .path.display())]
    NotAStore {
        /// The file found at the path.
        path: PathBuf,
        /// What it holds, in words.
        problem: String,
    },
    /// The store's path is a symbolic link that is not safe to follow (someone else owns
    /// the link or its target, others may write the link's directory, or it points nowhere).
    #[error("refusing to follow the symbolic link {}: {reason}", .path.display())]
    UnsafeLink {
        /// The link.
        path: PathBuf,
        /// Why it is not followed.
        reason: String,
    },
    /// The builder's settings are unusable.
    #[error("invalid store configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// What kind of failure a [`StoreError`] is, for a front end that maps failures to exit codes
/// or HTTP statuses. [`StoreError::class`] matches every variant exhaustively here, in the
/// crate that defines them, so a new variant cannot fall through a front end's wildcard into
/// "a bug".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Another writer held the lock past the timeout; retrying may succeed.
    LockTimeout,
    /// The file system failed (permissions, a full disk, a missing directory, a failed flush).
    Io,
    /// The data (a file, a backup, an update's result) cannot be used as it is.
    InvalidData,
    /// The caller asked for something that is refused as asked (create over a store, a
    /// restore that would discard a sound file, bad settings).
    Usage,
    /// A bug of this crate.
    Internal,
}

impl StoreError {
    /// This error's [`ErrorClass`].
    pub fn class(&self) -> ErrorClass {
        match self {
            StoreError::LockTimeout { .. } => ErrorClass::LockTimeout,
            StoreError::Io { .. } | StoreError::Poisoned { .. } => ErrorClass::Io,
            StoreError::NewerFormat { .. }
            | StoreError::Invalid { .. }
            | StoreError::Rejected { .. }
            | StoreError::Unreadable { .. }
            | StoreError::TooLarge { .. }
            | StoreError::NoUsableBackup { .. }
            | StoreError::NotAStore { .. }
            | StoreError::UnsafeLink { .. } => ErrorClass::InvalidData,
            StoreError::AlreadyExists { .. }
            | StoreError::Config { .. }
            | StoreError::RestoreWouldDiscard { .. } => ErrorClass::Usage,
            StoreError::EmptyWrite { .. } => ErrorClass::Internal,
        }
    }
}
