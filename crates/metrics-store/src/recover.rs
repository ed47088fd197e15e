//! Reading the file and its backup, and recovering from damage without losing anything.
//!
//! The rule: whatever could not be read is never overwritten or deleted. A damaged main file
//! is kept under `NAME.corrupt-TIMESTAMP` (a hard link, then the main file is replaced); a
//! damaged backup is moved to `NAME.bak.corrupt-TIMESTAMP`.

use std::fmt;
use std::path::{Path, PathBuf};

use atomic_fs::{Backup, FileIdentity};
use metrics_types::{DashboardState, FORMAT_VERSION, FileVerdict};

use crate::store::Writer;
use crate::{MetricsStore, StoreError};

/// Where [`MetricsStore::restore`] takes the state from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreFrom {
    /// The backup, `NAME.bak`: the previous generation.
    Backup,
    /// Any file, such as a `NAME.corrupt-TIMESTAMP` kept aside earlier; it must load under
    /// the same rules as the metrics file.
    File(PathBuf),
}

/// What the store did about a damaged or missing file. Returned by
/// [`MetricsStore::recover`] and [`MetricsStore::restore`], kept for
/// [`MetricsStore::take_recovery`] after updates, and logged as a `tracing` warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// The metrics file.
    pub path: PathBuf,
    /// What was done.
    pub action: RecoveryAction,
    /// What was wrong with the metrics file (or why the restore was asked for).
    pub problem: String,
    /// Where unreadable files were kept, for a person to inspect.
    pub set_aside: Vec<PathBuf>,
}

/// The two ways a store recovers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryAction {
    /// The backup (the previous generation) was valid and is now the metrics file.
    RestoredFromBackup,
    /// A file chosen by the user (`recover --from`) is now the metrics file.
    RestoredFromFile {
        /// The file restored.
        source: PathBuf,
    },
    /// The journal (journal mode) held damaged or unreadable entries: it was kept aside, the
    /// entries that could be read were folded into the file, and a fresh journal started.
    JournalKeptAside,
    /// A write of an older state (the Python dashboard's `load()` ... `save()` spanning
    /// checkpoints) had dropped events or sessions a checkpoint had folded in: those the
    /// checkpoint's file (the backup) still held were applied again; `lost` names the
    /// acknowledged event ids that could not be found anywhere (kept in
    /// `X.journal.lost-TIMESTAMP`).
    ReappliedFromBackup {
        /// Events and sessions applied again.
        restored: usize,
        /// Acknowledged event ids found nowhere.
        lost: Vec<String>,
    },
    /// The backup was unusable too; the store started from an empty state.
    StartedFresh {
        /// What was wrong with the backup.
        backup_problem: String,
    },
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.action {
            RecoveryAction::RestoredFromBackup => {
                write!(f, "restored {} from its backup ({})", self.path.display(), self.problem)?;
            }
            RecoveryAction::RestoredFromFile { source } => write!(
                f,
                "restored {} from {} ({})",
                self.path.display(),
                source.display(),
                self.problem
            )?,
            RecoveryAction::JournalKeptAside => write!(
                f,
                "folded the readable entries of the journal {} into the file and started a fresh journal ({})",
                self.path.display(),
                self.problem
            )?,
            RecoveryAction::ReappliedFromBackup { restored, lost } => {
                write!(
                    f,
                    "applied {restored} event(s) and session(s) again from the backup of {}: a write of an older state had dropped them ({})",
                    self.path.display(),
                    self.problem
                )?;
                if !lost.is_empty() {
                    write!(
                        f,
                        "; {} acknowledged event(s) were found nowhere: {}",
                        lost.len(),
                        lost.join(", ")
                    )?;
                }
            }
            RecoveryAction::StartedFresh { backup_problem } => write!(
                f,
                "started {} afresh: it was unusable ({}) and so was its backup ({backup_problem})",
                self.path.display(),
                self.problem
            )?,
        }
        for aside in &self.set_aside {
            write!(f, "; the file it replaced is kept as {}", aside.display())?;
        }
        Ok(())
    }
}

/// What reading one file found.
#[expect(
    clippy::large_enum_variant,
    reason = "built once per read and consumed at once; boxing adds an allocation to every load"
)]
pub(crate) enum Examined {
    Missing,
    Good { state: DashboardState, identity: FileIdentity, file: std::fs::File },
    Damaged { problem: String },
}

impl MetricsStore {
    /// Refuses a file at the store's path that never was a store, before anything is read as
    /// one or created beside it (this runs before the lock is taken: taking it creates the
    /// lock file). A file is ours, and may be recovered over, when a backup, a journal or a
    /// lock file stands beside it, or its bytes look like a store
    /// ([`metrics_types::looks_like_store`]); a missing file is a store not yet created.
    /// Costs two `stat` calls when the lock file exists, as it does after the first write.
    pub(crate) fn refuse_foreign_file(&self) -> Result<(), StoreError> {
        let exists = |path: &Path| std::fs::symlink_metadata(path).is_ok();
        if !exists(&self.path) {
            return Ok(());
        }
        if [&self.lock_path, &self.backup_path, &self.journal_path].into_iter().any(|p| exists(p)) {
            return Ok(());
        }
        let contents = match atomic_fs::read(&self.path, self.config.max_file_size) {
            Ok(Some(contents)) => contents.bytes,
            Ok(None) => return Ok(()),
            // Too large or unreadable: the read or write that follows says so.
            Err(_) => return Ok(()),
        };
        match FileVerdict::of(&contents) {
            FileVerdict::Sound(_) => Ok(()),
            _ if metrics_types::looks_like_store(&contents) => Ok(()),
            FileVerdict::NewerFormat { found } => Err(StoreError::NotAStore {
                path: self.path.clone(),
                problem: format!(
                    "a JSON document with \"version\": {found} but none of a store's keys"
                ),
            }),
            FileVerdict::Damaged { problem } => {
                Err(StoreError::NotAStore { path: self.path.clone(), problem })
            }
        }
    }
}

impl MetricsStore {
    /// Loads one file (the metrics file, its backup, or a file to restore) under the
    /// Python dashboard's rules. I/O failures (a file over the size limit among them: it may
    /// be sound, so a write refuses it rather than keep it aside) and files from a newer
    /// format are errors; anything else unusable is `Damaged`.
    pub(crate) fn examine(&self, path: &Path) -> Result<Examined, StoreError> {
        let contents = match atomic_fs::read(path, self.config.max_file_size) {
            Ok(Some(contents)) => contents,
            Ok(None) => return Ok(Examined::Missing),
            Err(source) => return Err(self.io_error(source)),
        };
        match FileVerdict::of(&contents.bytes) {
            FileVerdict::Sound(state) => {
                Ok(Examined::Good { state, identity: contents.identity, file: contents.file })
            }
            // A document with a large "version" but nothing else of a store is no store.
            FileVerdict::NewerFormat { found }
                if metrics_types::looks_like_store(&contents.bytes) =>
            {
                Err(self.newer_format(found))
            }
            FileVerdict::NewerFormat { found } => Ok(Examined::Damaged {
                problem: format!(
                    "a JSON document with \"version\": {found} but none of a store's keys"
                ),
            }),
            FileVerdict::Damaged { problem } => Ok(Examined::Damaged { problem }),
        }
    }

    /// Under both locks: the current state, recovering first if the file is damaged, or
    /// missing while a backup exists.
    pub(crate) fn read_locked(
        &self,
        writer: &mut Writer,
    ) -> Result<(DashboardState, Option<(FileIdentity, std::fs::File)>), StoreError> {
        let main = self.examine(&self.path)?;
        let main_problem = match main {
            Examined::Good { state, identity, file } => return Ok((state, Some((identity, file)))),
            Examined::Missing => None,
            Examined::Damaged { problem } => Some(problem),
        };
        let backup = self.examine(&self.backup_path)?;
        if main_problem.is_none() && matches!(backup, Examined::Missing) {
            return Ok((self.fresh_state(), None));
        }
        writer.check_not_poisoned(&self.path)?;
        let problem = main_problem.clone().unwrap_or_else(|| "the file is missing".to_owned());
        let mut set_aside = Vec::new();
        if main_problem.is_some() {
            set_aside.push(self.keep_aside(&self.path, "corrupt", atomic_fs::set_aside)?);
        }
        let action = match backup {
            Examined::Good { state, .. } => {
                self.write_without_rotation(writer, state)?;
                RecoveryAction::RestoredFromBackup
            }
            Examined::Missing | Examined::Damaged { .. } => {
                let backup_problem = match backup {
                    Examined::Damaged { problem } => {
                        set_aside.push(self.keep_aside(
                            &self.backup_path,
                            "corrupt",
                            atomic_fs::move_aside,
                        )?);
                        problem
                    }
                    _ => "there is no backup".to_owned(),
                };
                let state = self.fresh_state();
                if main_problem.is_some() {
                    // The damaged file is kept aside; replace it so it is not read again.
                    self.write_without_rotation(writer, state.clone())?;
                }
                RecoveryAction::StartedFresh { backup_problem }
            }
        };
        let recovery = Recovery { path: self.path.clone(), action, problem, set_aside };
        self.note_recovery(&recovery);
        // The write cached what it wrote, with the file held open.
        Ok(match writer.take_cached() {
            Some(cached) => (cached.state, Some((cached.identity, cached.file))),
            None => (self.fresh_state(), None),
        })
    }

    /// Under both locks: makes the backup (or the chosen file) the metrics file, keeping the
    /// current file aside. See [`MetricsStore::restore`].
    pub(crate) fn restore_locked(
        &self,
        writer: &mut Writer,
        from: &RestoreFrom,
        force: bool,
    ) -> Result<Recovery, StoreError> {
        writer.check_not_poisoned(&self.path)?;
        let source_path = match from {
            RestoreFrom::Backup => self.backup_path.clone(),
            RestoreFrom::File(path) => path.clone(),
        };
        let state = match self.examine(&source_path)? {
            Examined::Good { state, .. } => state,
            Examined::Missing => {
                let problem = "there is no such file".to_owned();
                return Err(StoreError::NoUsableBackup { path: source_path, problem });
            }
            Examined::Damaged { problem } => {
                return Err(StoreError::NoUsableBackup { path: source_path, problem });
            }
        };
        let current = self.examine(&self.path)?;
        let mut set_aside = Vec::new();
        let problem = match current {
            Examined::Good { state: current, .. } => {
                if *from == RestoreFrom::Backup && !force {
                    return Err(StoreError::RestoreWouldDiscard {
                        path: self.path.clone(),
                        discarded: describe_difference(&current, &state),
                    });
                }
                set_aside.push(self.keep_aside(&self.path, "replaced", atomic_fs::set_aside)?);
                "asked for over a file that loads".to_owned()
            }
            Examined::Damaged { problem } => {
                set_aside.push(self.keep_aside(&self.path, "corrupt", atomic_fs::set_aside)?);
                problem
            }
            Examined::Missing => "the file is missing".to_owned(),
        };
        self.write_without_rotation(writer, state)?;
        let action = match from {
            RestoreFrom::Backup => RecoveryAction::RestoredFromBackup,
            RestoreFrom::File(path) => RecoveryAction::RestoredFromFile { source: path.clone() },
        };
        let recovery = Recovery { path: self.path.clone(), action, problem, set_aside };
        self.note_recovery(&recovery);
        Ok(recovery)
    }

    /// Writes `state` as the metrics file without rotating the (damaged or replaced) current
    /// file into the backup.
    fn write_without_rotation(
        &self,
        writer: &mut Writer,
        state: DashboardState,
    ) -> Result<(), StoreError> {
        self.commit(writer, None, state, Backup::None)?;
        Ok(())
    }

    /// Keeps `path` as `PATH.LABEL-TIMESTAMP[-N]`, never overwriting an earlier one.
    pub(crate) fn keep_aside(
        &self,
        path: &Path,
        label: &str,
        keep: fn(&Path, &Path, atomic_fs::Durability) -> Result<(), atomic_fs::Error>,
    ) -> Result<PathBuf, StoreError> {
        let stamp = aside_stamp();
        for attempt in 0..1000 {
            let suffix = if attempt == 0 {
                format!(".{label}-{stamp}")
            } else {
                format!(".{label}-{stamp}-{attempt}")
            };
            let aside = crate::config::sibling(path, &suffix);
            match keep(path, &aside, self.fs_durability()) {
                Ok(()) => return Ok(aside),
                Err(atomic_fs::Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(self.io_error(source)),
            }
        }
        let source =
            std::io::Error::other("a thousand damaged copies from this second already exist");
        Err(self.io_error(atomic_fs::Error::Io {
            op: atomic_fs::Op::Link,
            path: path.to_owned(),
            source,
        }))
    }

    pub(crate) fn note_recovery(&self, recovery: &Recovery) {
        tracing::warn!(path = %self.path.display(), "{recovery}");
        self.counters.recovered();
        *crate::sync::lock(&self.last_recovery) = Some(recovery.clone());
    }

    pub(crate) fn newer_format(&self, found: u64) -> StoreError {
        StoreError::NewerFormat { path: self.path.clone(), found, supported: FORMAT_VERSION }
    }
}

/// The time in the name of every file set aside (`NAME.corrupt-`, `.replaced-`,
/// `.journal.torn-`, `.lost-`, `.refused-`): UTC, to the second (`20261205T021925Z`); a
/// second file of the same second gets `-1`, `-2`, ...
pub(crate) fn aside_stamp() -> String {
    jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// What replacing `current` with `restored` would discard, in words.
fn describe_difference(current: &DashboardState, restored: &DashboardState) -> String {
    let newer_events =
        current.events().iter().filter(|event| !restored.contains_event(event.event_id())).count();
    let newer_sessions = current
        .sessions()
        .iter()
        .filter(|session| {
            !restored.sessions().iter().any(|kept| kept.session_id() == session.session_id())
        })
        .count();
    format!(
        "{newer_events} event(s) and {newer_sessions} session(s) not in the backup, and every other change of its latest write"
    )
}
