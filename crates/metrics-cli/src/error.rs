//! `CliError`: every failure the command can report, mapped to one message and one exit code.
//!
//! This is the only place that decides what the user sees when something goes wrong.

use std::path::PathBuf;

use metrics_store::{ErrorClass, StoreError};

/// The documented exit codes (see `agent-metrics --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitClass {
    Internal = 1,
    Usage = 2,
    InvalidData = 3,
    LockTimeout = 4,
    Io = 5,
    NoStore = 6,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no metrics store at {} (run `agent-metrics init`, or record an event, first)", .path.display())]
    NoStore { path: PathBuf },
    #[error("no agent named {name:?} in {} (known: {known})", .path.display())]
    UnknownAgent { name: String, path: PathBuf, known: String },
    #[error("{what} in {}", .path.display())]
    NotFound { what: String, path: PathBuf },
    #[error("{message}")]
    Usage { message: String },
    #[error("invalid input: {message}; nothing was recorded")]
    InvalidInput { message: String },
    /// `check` found problems; `report` (the details) goes to standard output.
    #[error("{} is not sound: {summary}", .path.display())]
    CheckFailed { path: PathBuf, summary: String, report: String },
    #[error("{count} invalid line(s) were skipped; every other line was recorded and acknowledged")]
    SkippedLines { count: usize },
    #[error("cannot read standard input: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("cannot write standard output: {0}")]
    Stdout(#[source] std::io::Error),
    /// `export --output`: the export file could not be written (the store is untouched).
    #[error("cannot write the export file: {0}")]
    ExportFile(#[source] metrics_store::atomic_fs::Error),
    #[error("demo: {message}")]
    Demo { message: String },
    #[error(transparent)]
    Server(#[from] metrics_server::ServerError),
}

impl CliError {
    pub(crate) fn exit_class(&self) -> ExitClass {
        match self {
            CliError::Store(err) => store_class(err),
            CliError::NoStore { .. } => ExitClass::NoStore,
            CliError::UnknownAgent { .. } | CliError::NotFound { .. } | CliError::Usage { .. } => {
                ExitClass::Usage
            }
            CliError::InvalidInput { .. }
            | CliError::SkippedLines { .. }
            | CliError::CheckFailed { .. } => ExitClass::InvalidData,
            CliError::Stdin(_) | CliError::Stdout(_) | CliError::ExportFile(_) => ExitClass::Io,
            CliError::Demo { .. } => ExitClass::Internal,
            CliError::Server(err) => match err {
                metrics_server::ServerError::Store(err) => store_class(err),
                metrics_server::ServerError::TokenRequired { .. }
                | metrics_server::ServerError::WeakToken { .. }
                | metrics_server::ServerError::TokenFile { .. } => ExitClass::Usage,
                _ => ExitClass::Io,
            },
        }
    }
}

/// The store's own classification of its error (exhaustive in `metrics-store`), mapped to
/// the exit codes; this match is exhaustive too.
fn store_class(err: &StoreError) -> ExitClass {
    match err.class() {
        ErrorClass::LockTimeout => ExitClass::LockTimeout,
        ErrorClass::Io => ExitClass::Io,
        ErrorClass::InvalidData => ExitClass::InvalidData,
        ErrorClass::Usage => ExitClass::Usage,
        ErrorClass::Internal => ExitClass::Internal,
    }
}

/// Whether an I/O error is a closed pipe (`agent-metrics events | head`), which ends the
/// program quietly with success, as other command-line tools do.
pub(crate) fn is_broken_pipe(err: &std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::BrokenPipe
}
