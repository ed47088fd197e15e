//! `StoreBuilder`: the settings of a store handle, and the paths of its files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use metrics_types::Limits;

use crate::{MetricsStore, StoreError};

/// The metrics file's name when only a directory is given.
pub const DEFAULT_FILE_NAME: &str = ".agent_metrics.json";
/// How long an update waits for the lock unless told otherwise.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);
/// Files larger than this are refused rather than read into memory (64 MiB).
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Whether writes are flushed to disk before an update returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flush the file and its directory: a successful update survives a crash or power loss.
    Full,
    /// **For tests and benchmarks only.** No fsync: atomic for readers and process crashes, but
    /// a power loss can lose recent updates.
    NoSyncTestsOnly,
}

/// Settings for [`MetricsStore`]; start with [`MetricsStore::builder`].
#[derive(Debug, Clone)]
pub struct StoreBuilder {
    path: PathBuf,
    config: Config,
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) limits: Limits,
    pub(crate) lock_timeout: Duration,
    pub(crate) durability: Durability,
    pub(crate) project_name: String,
    pub(crate) max_file_size: u64,
}

impl StoreBuilder {
    pub(crate) fn new(path: &Path) -> StoreBuilder {
        StoreBuilder {
            path: path.to_owned(),
            config: Config {
                limits: Limits::DEFAULT,
                lock_timeout: DEFAULT_LOCK_TIMEOUT,
                durability: Durability::Full,
                project_name: String::new(),
                max_file_size: DEFAULT_MAX_FILE_SIZE,
            },
        }
    }

    /// How many events and sessions to keep (default 500 and 50); older ones are evicted.
    pub fn limits(mut self, limits: Limits) -> StoreBuilder {
        self.config.limits = limits;
        self
    }

    /// How long updates wait for the lock (default 10 s); [`MetricsStore::with_lock_timeout`]
    /// overrides it per call.
    pub fn lock_timeout(mut self, timeout: Duration) -> StoreBuilder {
        self.config.lock_timeout = timeout;
        self
    }

    /// Whether to flush to disk (default [`Durability::Full`]).
    pub fn durability(mut self, durability: Durability) -> StoreBuilder {
        self.config.durability = durability;
        self
    }

    /// The project name written into a new file.
    pub fn project_name(mut self, name: &str) -> StoreBuilder {
        name.clone_into(&mut self.config.project_name);
        self
    }

    /// The largest file the store will read (default 64 MiB).
    pub fn max_file_size(mut self, bytes: u64) -> StoreBuilder {
        self.config.max_file_size = bytes;
        self
    }

    /// Opens the handle. Touches no file: nothing is created or rewritten until the first
    /// update.
    pub fn open(self) -> Result<MetricsStore, StoreError> {
        let Limits { max_events, max_sessions } = self.config.limits;
        if max_events == 0 || max_sessions == 0 {
            let message = format!(
                "limits must keep at least one event and one session (got {max_events} and {max_sessions})"
            );
            return Err(StoreError::Config { message });
        }
        if self.path.file_name().is_none() {
            let message = format!("{} does not name a file", self.path.display());
            return Err(StoreError::Config { message });
        }
        Ok(MetricsStore::from_parts(self.path, self.config))
    }
}

/// `PATH` with `suffix` appended to its file name: `data.json` → `data.json.lock`.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}
