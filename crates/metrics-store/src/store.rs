//! `MetricsStore`: the handle, and the read-modify-write protocol every update follows.

use std::path::{Path, PathBuf};
use std::time::Duration;

use atomic_fs::{Backup, FileIdentity, FileLock, ReplaceConfig};
use metrics_types::{
    AgentEvent, BatchOutcome, DashboardState, RecordOutcome, SessionSummary, StorageMode, Timestamp,
};

use crate::StoreError;
use crate::config::{Config, Durability, StoreBuilder};
use crate::journal::{JournalIndex, JournalReport};
use crate::protocol::with_both_locks;
use crate::recover::{Examined, Recovery, RestoreFrom};
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
    pub(crate) journal_path: PathBuf,
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
    /// Set when the metrics file could not be read and this is its backup's state.
    pub fallback: Option<Fallback>,
    /// Set in journal mode: what the journal added on top of the file, and what it held
    /// that could not be applied.
    pub journal: Option<JournalReport>,
}

/// A read showed the backup because the metrics file is damaged or missing; nothing was
/// changed on disk (a read never writes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The metrics file.
    pub path: PathBuf,
    /// The backup shown instead.
    pub backup_path: PathBuf,
    /// What is wrong with the metrics file.
    pub problem: String,
}

impl std::fmt::Display for Fallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} cannot be read ({}); showing its backup {} (the previous generation, one write older); run `agent-metrics recover` to restore it",
            self.path.display(),
            self.problem,
            self.backup_path.display()
        )
    }
}

/// The writer side of a handle, behind the in-process mutex.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    /// The state this handle last wrote, with the file it wrote.
    cached: Option<Cached>,
    /// In journal mode, what this handle knows of the journal.
    pub(crate) journal: Option<JournalIndex>,
    /// A flush failed: the handle refuses further writes.
    poisoned: bool,
}

impl Writer {
    pub(crate) fn take_cached(&mut self) -> Option<Cached> {
        self.cached.take()
    }

    /// Caches `state` again with the file it was read from (after [`MetricsStore`] took it
    /// to read the current state without changing it).
    pub(crate) fn restore_cached(
        &mut self,
        read: Option<(FileIdentity, std::fs::File)>,
        state: DashboardState,
    ) {
        self.cached = read.map(|(identity, file)| Cached { identity, file, state });
    }

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
            // A failed write may have left part of a record: read the journal afresh.
            self.journal = None;
            StoreError::Io { path: path.to_owned(), source }
        })
    }
}

/// The state a handle last wrote or read, and the file it came from, kept open.
///
/// Holding the file open is what makes the identity comparison sound: an open inode cannot
/// be freed, so no later file can get its number while we hold it, and an identity (device,
/// inode, size, modification and change times) equal to ours means the path still names this
/// very generation. Without it, two writes by another process could free our inode and a
/// third could be given its number.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) identity: FileIdentity,
    pub(crate) file: std::fs::File,
    pub(crate) state: DashboardState,
}

impl Cached {
    /// The decision at the heart of the cache, kept apart (and generic over the identity) so
    /// the loom model runs it: reuse the cached state only if the path names the same
    /// generation now.
    pub(crate) fn is_current<I: PartialEq>(identity_now: Option<I>, cached: &I) -> bool {
        identity_now.as_ref() == Some(cached)
    }
}

/// Whether an update changed the state and must be written.
pub(crate) enum Change<T> {
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
            lock_path: crate::config::lock_path(&path),
            journal_path: crate::config::journal_path(&path),
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
    /// The lock file beside it (never deleted): `X.lock` for `X.json`, the lock file of the
    /// Python dashboard (`.agent_metrics.lock`), so both tools exclude each other.
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
    /// Creates nothing: a missing lock file is free.
    pub fn lock_is_free(&self) -> Result<bool, StoreError> {
        FileLock::is_free(&self.lock_path).map_err(|source| self.io_error(source))
    }

    /// The latest recovery this handle made, if not taken yet.
    pub fn take_recovery(&self) -> Option<Recovery> {
        lock(&self.last_recovery).take()
    }

    /// This handle with another lock timeout for the calls made through the returned view.
    pub fn with_lock_timeout(&self, timeout: Duration) -> TimedStore<'_> {
        TimedStore { store: self, timeout }
    }

    /// Reads the current state. A read never writes: it takes no lock, creates, restores or
    /// sets aside nothing.
    ///
    /// A missing file (and backup) is an empty state. When the file is damaged (or missing)
    /// but its backup loads, the backup's state is returned with a [`Fallback`] saying so;
    /// only a write (or [`MetricsStore::restore`]) recovers the file. When neither loads the
    /// error is [`StoreError::Unreadable`].
    pub fn load(&self) -> Result<Loaded, StoreError> {
        // The journal first: a checkpoint between the two reads then cannot hide an entry
        // (what this journal read lacks is in the newer file).
        let journal = self.read_journal()?;
        let mut loaded = self.load_file()?;
        loaded.journal = match journal {
            Some(journal) => Some(self.apply_journal(&mut loaded.state, journal)),
            None => self.missing_journal_report(&loaded.state),
        };
        Ok(loaded)
    }

    /// The file's state, or its backup's, without the journal.
    fn load_file(&self) -> Result<Loaded, StoreError> {
        let main_problem = match self.examine(&self.path) {
            Ok(Examined::Good { state, .. }) => {
                return Ok(Loaded { state, fallback: None, journal: None });
            }
            Ok(Examined::Missing) => None,
            Ok(Examined::Damaged { problem }) => Some(problem),
            // A file too large to read is damage to a reader: show the backup if it loads.
            Err(StoreError::Io {
                source: atomic_fs::Error::TooLarge { size, limit, .. }, ..
            }) => Some(format!("the file is {size} bytes, more than the limit of {limit}")),
            Err(err) => return Err(err),
        };
        match self.examine(&self.backup_path)? {
            Examined::Good { state: backup_state, .. } => {
                if main_problem.is_none()
                    && let Examined::Good { state, .. } = self.examine(&self.path)?
                {
                    // The file was missing because the store was being created: between the
                    // two reads its first writes made both the file and the backup.
                    return Ok(Loaded { state, fallback: None, journal: None });
                }
                let state = backup_state;
                let problem = main_problem.unwrap_or_else(|| "the file is missing".to_owned());
                let fallback = Fallback {
                    path: self.path.clone(),
                    backup_path: self.backup_path.clone(),
                    problem,
                };
                Ok(Loaded { state, fallback: Some(fallback), journal: None })
            }
            Examined::Missing if main_problem.is_none() => {
                Ok(Loaded { state: self.fresh_state(), fallback: None, journal: None })
            }
            backup => {
                self.refuse_foreign_file()?;
                Err(StoreError::Unreadable {
                    path: self.path.clone(),
                    problem: main_problem.unwrap_or_else(|| "the file is missing".to_owned()),
                    backup_problem: match backup {
                        Examined::Damaged { problem } => problem,
                        _ => "there is no backup".to_owned(),
                    },
                })
            }
        }
    }

    /// Recovers the file if it is damaged (or missing while a backup exists), under the lock,
    /// exactly as the next write would, and writes nothing else: `None` when there was
    /// nothing to do. Reads never recover; this is how a caller asks for it explicitly.
    pub fn recover(&self) -> Result<Option<Recovery>, StoreError> {
        let _ = self.take_recovery();
        with_both_locks(
            &self.writer,
            || self.lock_file(self.config.lock_timeout),
            |writer, _file_lock| {
                writer.check_not_poisoned(&self.path)?;
                let (state, read) = self.read_locked(writer)?;
                writer.cached = read.map(|(identity, file)| Cached { identity, file, state });
                Ok(self.take_recovery())
            },
        )
    }

    /// Applies `change` to the latest state and writes the result durably. If `change` fails,
    /// or the result would add a finding the state did not have, nothing is written.
    ///
    /// `change` may run more than once: if the lock file is deleted or replaced while this
    /// update holds it, another writer may have come in under the new lock file, so the
    /// update starts again on the state that writer left.
    pub fn update<T, E>(
        &self,
        change: impl FnMut(&mut DashboardState) -> Result<T, E>,
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

    /// Records a session summary built from the latest state, inside the locked update:
    /// whatever `build` derives (the session's number, its events' tokens and cost) is
    /// computed from the state it is written into, so two concurrent calls never get the
    /// same number and an event recorded meanwhile is never missed.
    pub fn record_session_with<E>(
        &self,
        build: impl FnMut(&DashboardState) -> Result<SessionSummary, E>,
    ) -> Result<RecordOutcome, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.with_lock_timeout(self.config.lock_timeout).record_session_with(build)
    }

    /// Creates the file with an empty state. Refuses ([`StoreError::AlreadyExists`]) if the
    /// file or its backup exists.
    pub fn create(&self) -> Result<(), StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).create()
    }

    /// Makes the backup (or another file, see [`RestoreFrom`]) the metrics file, keeping
    /// the current file aside, and says what it did.
    ///
    /// Restoring the backup over a metrics file that loads would discard its latest write,
    /// so it is refused ([`StoreError::RestoreWouldDiscard`], saying what would be lost)
    /// unless `force`. Fails with [`StoreError::NoUsableBackup`] (changing nothing) if the
    /// source is missing or does not load.
    pub fn restore(&self, from: &RestoreFrom, force: bool) -> Result<Recovery, StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).restore(from, force)
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

    /// A warning when the store's directory is writable by others, who could then replace
    /// or remove its files (or plant a link at its path); `None` otherwise. Writers say it
    /// on every write and `check` lists it.
    pub fn shared_directory_warning(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mode = std::fs::metadata(dir).ok()?.mode();
        (mode & 0o002 != 0).then(|| {
            format!(
                "the store's directory {} is writable by other users (mode {:o}), who could replace or remove its files; keep stores in a directory only you can write",
                dir.display(),
                mode & 0o7777
            )
        })
    }

    /// Takes the lock file for a write, after refusing a file that never was a store. The
    /// lock file is created with the data file's permission bits (0600 for a new store), so
    /// nobody who cannot read the data can hold the lock.
    fn lock_file(&self, timeout: Duration) -> Result<FileLock, StoreError> {
        self.refuse_foreign_file()?;
        let mode = std::fs::metadata(&self.path).map_or(atomic_fs::DEFAULT_LOCK_MODE, |m| {
            std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o666
        });
        match FileLock::lock_with_mode(&self.lock_path, timeout, mode) {
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

    /// The update protocol. `change` says whether the state must be written; it runs again
    /// when the lock was lost before the commit (see [`MetricsStore::update`]).
    fn transact<T>(
        &self,
        timeout: Duration,
        mut change: impl FnMut(&mut DashboardState) -> Result<Change<T>, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_attempts(timeout, |writer, file_lock| {
            self.transact_locked(writer, file_lock, &mut change)
        })
    }

    /// Runs `attempt` under both locks until it is done, starting again when the lock file
    /// was deleted or replaced before its commit.
    pub(crate) fn with_attempts<T>(
        &self,
        timeout: Duration,
        mut attempt: impl FnMut(&mut Writer, &FileLock) -> Result<Attempt<T>, StoreError>,
    ) -> Result<T, StoreError> {
        // The timeout bounds the whole update, restarts included: a lock file deleted faster
        // than a write completes ends in a lock timeout, not in a loop.
        let started = std::time::Instant::now();
        loop {
            let remaining = timeout.saturating_sub(started.elapsed());
            let outcome =
                with_both_locks(&self.writer, || self.lock_file(remaining), &mut attempt)?;
            match outcome {
                Attempt::Done(value) => return Ok(value),
                Attempt::LockLost if started.elapsed() >= timeout => {
                    self.counters.lock_timed_out();
                    let waited = started.elapsed();
                    return Err(StoreError::LockTimeout { path: self.path.clone(), waited });
                }
                Attempt::LockLost => self.counters.lock_lost(),
            }
        }
    }

    /// The body of [`MetricsStore::transact`], holding both locks.
    pub(crate) fn transact_locked<T>(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        change: &mut impl FnMut(&mut DashboardState) -> Result<Change<T>, StoreError>,
    ) -> Result<Attempt<T>, StoreError> {
        writer.check_not_poisoned(&self.path)?;
        self.sweep_stale_temps(file_lock);

        let (mut state, read) = self.current_state(writer)?;
        if state.is_from_newer_format() {
            return Err(self.newer_format(state.version()));
        }
        // Before the change, so it sees everything acknowledged (and so a cached state stays
        // the file's: nothing below caches a state that was not written).
        let plan = self.fold_for_write(&mut state, read.as_ref().map(|(identity, _)| identity))?;
        let baseline = summary_finding_paths(&state);
        let evicted = state.enforce_limits(&self.config.limits);
        let value = match change(&mut state)? {
            Change::Unchanged(value) if evicted == 0 && !plan.needs_write => {
                writer.cached = read.map(|(identity, file)| Cached { identity, file, state });
                return Ok(Attempt::Done(value));
            }
            Change::Unchanged(value) | Change::Write(value) => value,
        };

        state.touch(Timestamp::now());
        let introduced: Vec<_> = summary_findings(&state)
            .into_iter()
            .filter(|violation| !baseline.contains(&violation.path))
            .collect();
        if !introduced.is_empty() {
            let source = metrics_types::ValidationError::Invalid { violations: introduced };
            return Err(StoreError::Invalid { path: self.path.clone(), source });
        }
        let has_journal = state.storage().mode == StorageMode::Journal;
        let finish = crate::journal::JournalFinish::after(&state);
        let Some(written) =
            self.commit(writer, Some(file_lock), state, Backup::PreviousGeneration)?
        else {
            return Ok(Attempt::LockLost);
        };
        if plan.exists || has_journal {
            self.finish_journal(writer, file_lock, finish, written, plan)?;
        }
        Ok(Attempt::Done(value))
    }

    /// The one write of every path (updates, creation, recovery, restore): serialize, check
    /// the size, replace durably (checking right before the commit that the lock is still
    /// ours, when the caller passes it), count, and cache the state with the new file held
    /// open. `Ok(None)` when the lock file was deleted or replaced
    /// under us: nothing was written, and the caller starts again under a fresh lock.
    pub(crate) fn commit(
        &self,
        writer: &mut Writer,
        file_lock: Option<&FileLock>,
        state: DashboardState,
        backup: Backup,
    ) -> Result<Option<FileIdentity>, StoreError> {
        let bytes = state.to_json();
        self.check_payload(&bytes)?;
        let config = ReplaceConfig { durability: self.fs_durability(), backup };
        writer.cached = None;
        let result = match file_lock {
            Some(file_lock) => atomic_fs::replace_locked(&self.path, &bytes, &config, file_lock),
            None => atomic_fs::replace(&self.path, &bytes, &config),
        };
        if let Err(atomic_fs::Error::LockLost { .. }) = result {
            return Ok(None);
        }
        let replaced = writer.guard_write(&self.path, result)?;
        self.counters.wrote(bytes.len());
        let identity = replaced.identity;
        writer.cached = Some(Cached { identity, file: replaced.file, state });
        Ok(Some(identity))
    }

    /// Refuses a payload that must never become a durable generation: an empty one (which
    /// `to_json` cannot produce; were it ever to, it would rotate the good generation into
    /// the backup and leave nothing), or one over the write limit (it could not be read back).
    pub(crate) fn check_payload(&self, bytes: &[u8]) -> Result<(), StoreError> {
        if bytes.is_empty() {
            return Err(StoreError::EmptyWrite { path: self.path.clone() });
        }
        let limit = self.config.write_limit();
        if bytes.len() as u64 > limit {
            let size = bytes.len() as u64;
            return Err(StoreError::TooLarge { path: self.path.clone(), size, limit });
        }
        Ok(())
    }

    /// Under the lock: removes temporary files of writers that died mid-write, ours and (for
    /// the Python dashboard's file) the Python store's, in one listing of the directory.
    fn sweep_stale_temps(&self, file_lock: &FileLock) {
        // The journal's temporary files (a checkpoint's fresh journal, `.NAME.journal.tmp.*`)
        // are only made under the lock, so while we hold it every one of them is stale.
        let journal_name = self.journal_path.file_name().unwrap_or_default().to_string_lossy();
        let journal_temps = format!(".{journal_name}.tmp.");
        let mut foreign = vec![atomic_fs::ForeignTemps { prefix: &journal_temps, suffix: "" }];
        if self.path.file_name().is_some_and(|name| name == crate::DEFAULT_FILE_NAME) {
            foreign.push(atomic_fs::ForeignTemps { prefix: PYTHON_TEMP_PREFIX, suffix: ".tmp" });
        }
        if let Err(err) = atomic_fs::remove_stale_temps(file_lock, &self.path, &foreign) {
            tracing::warn!(path = %self.path.display(), "could not remove stale temporary files: {err}");
        }
    }

    /// Under both locks: the state this handle wrote last if the file is provably still that
    /// generation (see [`Cached`]), else the file read afresh (recovering it if damaged).
    /// With the state comes the identity and open file it was read from, if any.
    pub(crate) fn current_state(
        &self,
        writer: &mut Writer,
    ) -> Result<(DashboardState, Option<(FileIdentity, std::fs::File)>), StoreError> {
        if let Some(cached) = writer.cached.take() {
            let now = atomic_fs::identity(&self.path).map_err(|source| self.io_error(source))?;
            if Cached::is_current(now, &cached.identity) {
                self.counters.cache_hit();
                return Ok((cached.state, Some((cached.identity, cached.file))));
            }
        }
        self.read_locked(writer)
    }
}

/// The Python dashboard's temporary files (`tempfile.mkstemp(prefix=".agent_metrics_",
/// suffix=".tmp")`, and `.agent_metrics_bak_*.tmp` for its backup), stale under the lock.
const PYTHON_TEMP_PREFIX: &str = ".agent_metrics_";

/// What one locked attempt at an update came to.
pub(crate) enum Attempt<T> {
    Done(T),
    /// The lock file was deleted or replaced before the commit; nothing was written.
    LockLost,
}

/// The findings a write could introduce: those of the totals and the profiles. Events and
/// sessions are never changed once stored, and new ones are validated when built.
fn summary_findings(state: &DashboardState) -> Vec<metrics_types::Violation> {
    state.validate_summary().err().map(|err| err.violations().to_vec()).unwrap_or_default()
}

fn summary_finding_paths(state: &DashboardState) -> std::collections::HashSet<String> {
    summary_findings(state).into_iter().map(|violation| violation.path).collect()
}

/// A store handle with a per-call lock timeout; see [`MetricsStore::with_lock_timeout`].
#[derive(Debug, Clone, Copy)]
pub struct TimedStore<'a> {
    store: &'a MetricsStore,
    timeout: Duration,
}

impl TimedStore<'_> {
    /// As [`MetricsStore::update`].
    pub fn update<T, E>(
        &self,
        mut change: impl FnMut(&mut DashboardState) -> Result<T, E>,
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
        let store = self.store;
        let limits = store.config.limits;
        let events = std::slice::from_ref(&event);
        // One lock hold, as for a batch.
        store.with_attempts(self.timeout, |writer, file_lock| {
            match store.append_events_locked(writer, file_lock, events)? {
                Attempt::Done(Some(outcome)) => {
                    return Ok(Attempt::Done(if outcome.recorded == 0 {
                        RecordOutcome::Duplicate
                    } else {
                        RecordOutcome::Recorded { evicted: 0 }
                    }));
                }
                Attempt::LockLost => return Ok(Attempt::LockLost),
                Attempt::Done(None) => {}
            }
            store.transact_locked(writer, file_lock, &mut |state| match state
                .record_event(event.clone(), &limits)
                .map_err(|err| self.invalid(err))?
            {
                RecordOutcome::Duplicate => Ok(Change::Unchanged(RecordOutcome::Duplicate)),
                recorded => Ok(Change::Write(recorded)),
            })
        })
    }

    /// As [`MetricsStore::record_events`].
    pub fn record_events(&self, events: Vec<AgentEvent>) -> Result<BatchOutcome, StoreError> {
        let store = self.store;
        let limits = store.config.limits;
        // One lock hold: the mode is decided under it (a journal to append to, or not), and
        // the whole-file write runs in the same hold, so the mode cannot change in between.
        store.with_attempts(self.timeout, |writer, file_lock| {
            match store.append_events_locked(writer, file_lock, &events)? {
                Attempt::Done(Some(outcome)) => return Ok(Attempt::Done(outcome)),
                Attempt::LockLost => return Ok(Attempt::LockLost),
                Attempt::Done(None) => {}
            }
            store.transact_locked(writer, file_lock, &mut |state| {
                let outcome = state
                    .record_events(events.clone(), &limits)
                    .map_err(|err| self.invalid(err))?;
                Ok(if outcome.recorded > 0 {
                    Change::Write(outcome)
                } else {
                    Change::Unchanged(outcome)
                })
            })
        })
    }

    /// As [`MetricsStore::record_session`].
    pub fn record_session(&self, session: SessionSummary) -> Result<RecordOutcome, StoreError> {
        self.record_session_with(|_| Ok::<_, std::convert::Infallible>(session.clone()))
    }

    /// As [`MetricsStore::record_session_with`].
    pub fn record_session_with<E>(
        &self,
        mut build: impl FnMut(&DashboardState) -> Result<SessionSummary, E>,
    ) -> Result<RecordOutcome, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let store = self.store;
        let limits = store.config.limits;
        let path = &store.path;
        // One lock hold, as for events.
        store.with_attempts(self.timeout, |writer, file_lock| {
            match store.append_session_locked(writer, file_lock, &mut build)? {
                Attempt::Done(Some(outcome)) => return Ok(Attempt::Done(outcome)),
                Attempt::LockLost => return Ok(Attempt::LockLost),
                Attempt::Done(None) => {}
            }
            store.transact_locked(writer, file_lock, &mut |state| {
                let session = build(state).map_err(|source| StoreError::Rejected {
                    path: path.clone(),
                    source: source.into(),
                })?;
                match state.record_session(session, &limits).map_err(|err| self.invalid(err))? {
                    RecordOutcome::Duplicate => Ok(Change::Unchanged(RecordOutcome::Duplicate)),
                    recorded => Ok(Change::Write(recorded)),
                }
            })
        })
    }

    /// An update that writes only if `change` returns `true` (or the journal needs folding).
    pub(crate) fn update_if(
        &self,
        mut change: impl FnMut(&mut DashboardState) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        self.store.transact(self.timeout, |state| {
            Ok(if change(state)? { Change::Write(()) } else { Change::Unchanged(()) })
        })
    }

    fn invalid(&self, source: metrics_types::ValidationError) -> StoreError {
        StoreError::Invalid { path: self.store.path.clone(), source }
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
                store.commit(writer, None, state, Backup::None)?;
                Ok(())
            },
        )
    }

    /// As [`MetricsStore::restore`].
    pub fn restore(&self, from: &RestoreFrom, force: bool) -> Result<Recovery, StoreError> {
        let store = self.store;
        with_both_locks(
            &store.writer,
            || store.lock_file(self.timeout),
            |writer, _file_lock| {
                writer.cached = None;
                store.restore_locked(writer, from, force)
            },
        )
    }
}

#[cfg(test)]
mod tests;
