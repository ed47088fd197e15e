//! `MetricsStore`: the handle, and the read-modify-write protocol every update follows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use atomic_fs::{Backup, FileIdentity, FileLock, ReplaceConfig};
use metrics_types::{
    AgentEvent, BatchOutcome, DashboardState, RecordOutcome, SessionSummary, Timestamp,
};

use crate::StoreError;
use crate::config::{Config, Durability, StoreBuilder, sibling};
use crate::protocol::with_both_locks;
use crate::recover::{Examined, Recovery};
use crate::stats::{Counters, StoreStats};
use crate::sync::{Mutex, lock};

/// A handle on one metrics file, shared by threads (it is `Send + Sync`) and coordinated with
/// other processes through a lock file.
///
/// Every update follows one protocol: take the in-process mutex, then the file lock
/// (`NAME.lock`), read the latest state (or reuse the one this handle wrote, if the file is
/// provably still that generation), apply the change, validate, write it durably with the
/// previous generation kept as `NAME.bak`, and release. Reads take no lock.
///
/// ```
/// use metrics_store::MetricsStore;
/// use metrics_types::{AgentEvent, EventStatus, NewAgentEvent, RecordOutcome};
///
/// let dir = tempfile::tempdir()?;
/// let store = MetricsStore::builder(&dir.path().join(".agent_metrics.json")).project_name("demo").open()?;
/// let start = "2026-02-14T17:10:00+00:00".parse()?;
/// let event = AgentEvent::new(NewAgentEvent::new("e1", "coding", EventStatus::Success, start))?;
/// assert_eq!(store.record_event(event.clone())?, RecordOutcome::Recorded { evicted: 0 });
/// assert_eq!(store.record_event(event)?, RecordOutcome::Duplicate, "a retry is never counted twice");
/// assert_eq!(store.load()?.state.agents()["coding"].xp(), 11);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MetricsStore {
    pub(crate) path: PathBuf,
    pub(crate) lock_path: PathBuf,
    pub(crate) backup_path: PathBuf,
    pub(crate) config: Config,
    writer: Mutex<Writer>,
    pub(crate) counters: Counters,
    pub(crate) last_recovery: Mutex<Option<Recovery>>,
}

/// A state read from the store.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The state.
    pub state: DashboardState,
    /// What the store recovered from to produce it, if anything.
    pub recovery: Option<Recovery>,
}

/// The writer side of a handle, behind the in-process mutex.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// The state this handle last wrote and the identity of the file it wrote.
    cached: Option<(FileIdentity, DashboardState)>,
    /// A flush failed: the handle refuses further writes.
    poisoned: bool,
}

impl Writer {
    pub(crate) fn check_not_poisoned(&self, path: &Path) -> Result<(), StoreError> {
        if self.poisoned { Err(StoreError::Poisoned { path: path.to_owned() }) } else { Ok(()) }
    }

    /// Maps a write's result, poisoning the handle when a flush failed.
    pub(crate) fn guard_write<T>(
        &mut self,
        path: &Path,
        result: Result<T, atomic_fs::Error>,
    ) -> Result<T, StoreError> {
        result.map_err(|source| {
            if source.is_sync_failure() {
                self.poisoned = true;
                self.cached = None;
            }
            StoreError::Io { path: path.to_owned(), source }
        })
    }
}

/// Whether an update changed the state and must be written.
enum Change<T> {
    Write(T),
    Unchanged(T),
}

impl MetricsStore {
    /// Settings for a store on `path` (a file such as `.agent_metrics.json`; its lock file
    /// and backup go beside it).
    pub fn builder(path: &Path) -> StoreBuilder {
        StoreBuilder::new(path)
    }

    /// A store on `path` with the default settings.
    pub fn open(path: &Path) -> Result<MetricsStore, StoreError> {
        StoreBuilder::new(path).open()
    }

    pub(crate) fn from_parts(path: PathBuf, config: Config) -> MetricsStore {
        MetricsStore {
            lock_path: sibling(&path, ".lock"),
            backup_path: atomic_fs::backup_path(&path),
            path,
            config,
            writer: Mutex::new(Writer::default()),
            counters: Counters::default(),
            last_recovery: Mutex::new(None),
        }
    }

    /// The metrics file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The lock file beside it (never deleted).
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }
    /// The backup beside it: the previous generation.
    pub fn backup_path(&self) -> &Path {
        &self.backup_path
    }

    /// The handle's counters: lock waits and timeouts, recoveries, writes.
    pub fn stats(&self) -> StoreStats {
        self.counters.snapshot()
    }

    /// Whether no process holds the file lock right now (a snapshot: it may be taken a moment
    /// later). Never waits.
    pub fn lock_is_free(&self) -> Result<bool, StoreError> {
        FileLock::try_lock(&self.lock_path)
            .map(|lock| lock.is_some())
            .map_err(|source| self.io_error(source))
    }

    /// The latest recovery this handle made, if not taken yet.
    pub fn take_recovery(&self) -> Option<Recovery> {
        lock(&self.last_recovery).take()
    }

    /// This handle with another lock timeout for the calls made through the returned view.
    pub fn with_lock_timeout(&self, timeout: Duration) -> TimedStore<'_> {
        TimedStore { store: self, timeout }
    }

    /// Reads and validates the current state without taking the lock. A missing file is an
    /// empty state. A damaged file (or a missing one with a backup) is recovered under the
    /// lock, and the recovery is reported.
    pub fn load(&self) -> Result<Loaded, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).load()
    }

    /// Applies `change` to the latest state and writes the result durably. If `change` fails,
    /// or the result does not validate, nothing is written.
    pub fn update<T, E>(
        &self,
        change: impl FnOnce(&mut DashboardState) -> Result<T, E>,
    ) -> Result<T, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.with_lock_timeout(self.config.lock_timeout).update(change)
    }

    /// Records one event. An id already stored changes nothing, writes nothing and returns
    /// [`RecordOutcome::Duplicate`], so retrying a write whose outcome is unknown is safe.
    pub fn record_event(&self, event: AgentEvent) -> Result<RecordOutcome, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).record_event(event)
    }

    /// Records many events in one durable write.
    pub fn record_events(&self, events: Vec<AgentEvent>) -> Result<BatchOutcome, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).record_events(events)
    }

    /// Records a session summary (a session id already stored changes nothing).
    pub fn record_session(&self, session: SessionSummary) -> Result<RecordOutcome, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).record_session(session)
    }

    /// Creates the file with an empty state. Refuses ([`StoreError::AlreadyExists`]) if the
    /// file or its backup exists.
    pub fn create(&self) -> Result<(), StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).create()
    }

    /// Makes the backup the metrics file, keeping the current file aside, and says what it
    /// did. Fails with [`StoreError::NoUsableBackup`] (changing nothing) if the backup is
    /// missing or damaged.
    pub fn restore_from_backup(&self) -> Result<Recovery, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).restore_from_backup()
    }

    pub(crate) fn fresh_state(&self) -> DashboardState {
        DashboardState::new(&self.config.project_name)
    }

    pub(crate) fn fs_durability(&self) -> atomic_fs::Durability {
        match self.config.durability {
            Durability::Full => atomic_fs::Durability::Full,
            Durability::NoSyncTestsOnly => atomic_fs::Durability::NoSyncTestsOnly,
        }
    }

    pub(crate) fn io_error(&self, source: atomic_fs::Error) -> StoreError {
        StoreError::Io { path: self.path.clone(), source }
    }

    fn lock_file(&self, timeout: Duration) -> Result<FileLock, StoreError> {
        match FileLock::lock(&self.lock_path, timeout) {
            Ok(file_lock) => {
                self.counters.lock_acquired(file_lock.waited());
                Ok(file_lock)
            }
            Err(atomic_fs::Error::LockTimeout { waited, .. }) => {
                self.counters.lock_timed_out();
                Err(StoreError::LockTimeout { path: self.path.clone(), waited })
            }
            Err(source) => Err(self.io_error(source)),
        }
    }

    /// The update protocol. `change` says whether the state must be written.
    fn transact<T>(
        &self,
        timeout: Duration,
        change: impl FnOnce(&mut DashboardState) -> Result<Change<T>, StoreError>,
    ) -> Result<T, StoreError> {
        with_both_locks(
            &self.writer,
            || self.lock_file(timeout),
            |writer, file_lock| self.transact_locked(writer, file_lock, change),
        )
    }

    /// The body of [`MetricsStore::transact`], holding both locks.
    fn transact_locked<T>(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        change: impl FnOnce(&mut DashboardState) -> Result<Change<T>, StoreError>,
    ) -> Result<T, StoreError> {
        writer.check_not_poisoned(&self.path)?;
        if let Err(err) = atomic_fs::remove_stale_temps(file_lock, &self.path) {
            tracing::warn!(path = %self.path.display(), "could not remove stale temporary files: {err}");
        }

        let (mut state, read_identity) = self.current_state(writer)?;
        if state.is_from_newer_format() {
            return Err(self.newer_format(state.version()));
        }
        let evicted = state.enforce_limits(&self.config.limits);
        let value = match change(&mut state)? {
            Change::Unchanged(value) if evicted == 0 => {
                writer.cached = read_identity.map(|identity| (identity, state));
                return Ok(value);
            }
            Change::Unchanged(value) | Change::Write(value) => value,
        };

        state.touch(Timestamp::now());
        state
            .validate(&self.config.limits)
            .map_err(|source| StoreError::Invalid { path: self.path.clone(), source })?;
        let bytes = state.to_json();
        let config =
            ReplaceConfig { durability: self.fs_durability(), backup: Backup::PreviousGeneration };
        let replaced =
            writer.guard_write(&self.path, atomic_fs::replace(&self.path, &bytes, &config))?;
        self.counters.wrote(bytes.len());
        writer.cached = Some((replaced.identity, state));
        Ok(value)
    }

    /// Under both locks: the state this handle wrote last if the file is still that
    /// generation (same inode, size and times: every replace makes a new inode), else the
    /// file read afresh.
    fn current_state(
        &self,
        writer: &mut Writer,
    ) -> Result<(DashboardState, Option<FileIdentity>), StoreError> {
        if let Some((identity, state)) = writer.cached.take() {
            let now = atomic_fs::identity(&self.path).map_err(|source| self.io_error(source))?;
            if now == Some(identity) {
                self.counters.cache_hit();
                return Ok((state, Some(identity)));
            }
        }
        let (state, identity, _recovery) = self.read_locked(writer)?;
        Ok((state, identity))
    }
}

/// A store handle with a per-call lock timeout; see [`MetricsStore::with_lock_timeout`].
#[derive(Debug, Clone, Copy)]
pub struct TimedStore<'a> {
    store: &'a MetricsStore,
    timeout: Duration,
}

impl TimedStore<'_> {
    /// As [`MetricsStore::load`].
    pub fn load(&self) -> Result<Loaded, StoreError> {
        let store = self.store;
        match store.examine(&store.path)? {
            Examined::Good { state, .. } => return Ok(Loaded { state, recovery: None }),
            Examined::Missing if !store.backup_exists()? => {
                return Ok(Loaded { state: store.fresh_state(), recovery: None });
            }
            Examined::Missing | Examined::Damaged { .. } => {}
        }
        // Damaged, or missing with a backup: recover under the locks (another process may
        // have recovered it meanwhile, which `read_locked` finds).
        let (state, _identity, recovery) = with_both_locks(
            &store.writer,
            || store.lock_file(self.timeout),
            |writer, _file_lock| store.read_locked(writer),
        )?;
        Ok(Loaded { state, recovery })
    }

    /// As [`MetricsStore::update`].
    pub fn update<T, E>(
        &self,
        change: impl FnOnce(&mut DashboardState) -> Result<T, E>,
    ) -> Result<T, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let path = &self.store.path;
        self.store.transact(self.timeout, |state| match change(state) {
            Ok(value) => Ok(Change::Write(value)),
            Err(source) => Err(StoreError::Rejected { path: path.clone(), source: source.into() }),
        })
    }

    /// As [`MetricsStore::record_event`].
    pub fn record_event(&self, event: AgentEvent) -> Result<RecordOutcome, StoreError> {
        let limits = self.store.config.limits;
        self.store.transact(self.timeout, |state| match state.record_event(event, &limits) {
            RecordOutcome::Duplicate => Ok(Change::Unchanged(RecordOutcome::Duplicate)),
            recorded => Ok(Change::Write(recorded)),
        })
    }

    /// As [`MetricsStore::record_events`].
    pub fn record_events(&self, events: Vec<AgentEvent>) -> Result<BatchOutcome, StoreError> {
        let limits = self.store.config.limits;
        self.store.transact(self.timeout, |state| {
            let outcome = state.record_events(events, &limits);
            Ok(if outcome.recorded > 0 {
                Change::Write(outcome)
            } else {
                Change::Unchanged(outcome)
            })
        })
    }

    /// As [`MetricsStore::record_session`].
    pub fn record_session(&self, session: SessionSummary) -> Result<RecordOutcome, StoreError> {
        let limits = self.store.config.limits;
        self.store.transact(self.timeout, |state| match state.record_session(session, &limits) {
            RecordOutcome::Duplicate => Ok(Change::Unchanged(RecordOutcome::Duplicate)),
            recorded => Ok(Change::Write(recorded)),
        })
    }

    /// As [`MetricsStore::create`].
    pub fn create(&self) -> Result<(), StoreError> {
        let store = self.store;
        with_both_locks(
            &store.writer,
            || store.lock_file(self.timeout),
            |writer, _file_lock| {
                writer.check_not_poisoned(&store.path)?;
                for path in [&store.path, &store.backup_path] {
                    if atomic_fs::identity(path).map_err(|source| store.io_error(source))?.is_some()
                    {
                        return Err(StoreError::AlreadyExists { path: path.clone() });
                    }
                }
                let mut state = store.fresh_state();
                state.touch(Timestamp::now());
                let bytes = state.to_json();
                let config =
                    ReplaceConfig { durability: store.fs_durability(), backup: Backup::None };
                let replaced = writer
                    .guard_write(&store.path, atomic_fs::replace(&store.path, &bytes, &config))?;
                store.counters.wrote(bytes.len());
                writer.cached = Some((replaced.identity, state));
                Ok(())
            },
        )
    }

    /// As [`MetricsStore::restore_from_backup`].
    pub fn restore_from_backup(&self) -> Result<Recovery, StoreError> {
        let store = self.store;
        with_both_locks(
            &store.writer,
            || store.lock_file(self.timeout),
            |writer, _file_lock| {
                writer.cached = None;
                store.restore_locked(writer)
            },
        )
    }
}

impl MetricsStore {
    fn backup_exists(&self) -> Result<bool, StoreError> {
        Ok(atomic_fs::identity(&self.backup_path)
            .map_err(|source| self.io_error(source))?
            .is_some())
    }
}

#[cfg(test)]
mod tests;
