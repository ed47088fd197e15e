//! Reading the file and its backup, and recovering from damage without losing anything.
//!
//! The rule: whatever could not be read is never overwritten or deleted. A damaged main file
//! is kept under `NAME.corrupt-TIMESTAMP` (a hard link, then the main file is replaced); a
//! damaged backup is moved to `NAME.bak.corrupt-TIMESTAMP`.

use std::fmt;
use std::path::{Path, PathBuf};

use atomic_fs::{Backup, FileIdentity, ReplaceConfig};
use metrics_types::{DashboardState, FORMAT_VERSION, Limits, ValidationError};

use crate::store::Writer;
use crate::{MetricsStore, StoreError};

/// Validation on load accepts any number of events and sessions: a file written with larger
/// limits is not damaged; updates evict it down to this handle's limits.
const LOAD_LIMITS: Limits = Limits { max_events: usize::MAX, max_sessions: usize::MAX };

/// What the store did about a damaged or missing file. Returned by
/// [`MetricsStore::load`] and [`MetricsStore::restore_from_backup`], kept for
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
    Good { state: DashboardState, identity: FileIdentity },
    Damaged { problem: String },
}

impl MetricsStore {
    /// Reads and validates one file (the metrics file or its backup). I/O failures, files over
    /// the size limit and files from a newer format are errors; anything else unusable is
    /// `Damaged`.
    pub(crate) fn examine(&self, path: &Path) -> Result<Examined, StoreError> {
        let contents = match atomic_fs::read(path, self.config.max_file_size) {
            Ok(Some(contents)) => contents,
            Ok(None) => return Ok(Examined::Missing),
            Err(source) => return Err(self.io_error(source)),
        };
        match DashboardState::from_json(&contents.bytes, &LOAD_LIMITS) {
            Ok(state) => Ok(Examined::Good { state, identity: contents.identity }),
            Err(err) => {
                if let Some(found) = DashboardState::peek_version(&contents.bytes)
                    && found > FORMAT_VERSION
                {
                    return Err(self.newer_format(found));
                }
                Ok(Examined::Damaged { problem: describe(&err, &contents.bytes) })
            }
        }
    }

    /// Under both locks: the current state, recovering first if the file is damaged, or
    /// missing while a backup exists.
    pub(crate) fn read_locked(
        &self,
        writer: &mut Writer,
    ) -> Result<(DashboardState, Option<FileIdentity>, Option<Recovery>), StoreError> {
        let main = self.examine(&self.path)?;
        let main_problem = match main {
            Examined::Good { state, identity } => return Ok((state, Some(identity), None)),
            Examined::Missing => None,
            Examined::Damaged { problem } => Some(problem),
        };
        let backup = self.examine(&self.backup_path)?;
        if main_problem.is_none() && matches!(backup, Examined::Missing) {
            return Ok((self.fresh_state(), None, None));
        }
        writer.check_not_poisoned(&self.path)?;
        let problem = main_problem.clone().unwrap_or_else(|| "the file is missing".to_owned());
        let mut set_aside = Vec::new();
        if main_problem.is_some() {
            set_aside.push(self.keep_aside(&self.path, atomic_fs::set_aside)?);
        }
        let (state, identity, action) = match backup {
            Examined::Good { state, .. } => {
                let identity = self.write_without_rotation(writer, &state)?;
                (state, Some(identity), RecoveryAction::RestoredFromBackup)
            }
            Examined::Missing | Examined::Damaged { .. } => {
                let backup_problem = match backup {
                    Examined::Damaged { problem } => {
                        set_aside.push(self.keep_aside(&self.backup_path, atomic_fs::move_aside)?);
                        problem
                    }
                    _ => "there is no backup".to_owned(),
                };
                let state = self.fresh_state();
                let identity = match main_problem {
                    // The damaged file is kept aside; replace it so it is not read again.
                    Some(_) => Some(self.write_without_rotation(writer, &state)?),
                    None => None,
                };
                (state, identity, RecoveryAction::StartedFresh { backup_problem })
            }
        };
        let recovery = Recovery { path: self.path.clone(), action, problem, set_aside };
        self.note_recovery(&recovery);
        Ok((state, identity, Some(recovery)))
    }

    /// Under both locks: makes the backup the metrics file, keeping the current file aside.
    pub(crate) fn restore_locked(&self, writer: &mut Writer) -> Result<Recovery, StoreError> {
        writer.check_not_poisoned(&self.path)?;
        let state = match self.examine(&self.backup_path)? {
            Examined::Good { state, .. } => state,
            Examined::Missing => {
                return Err(StoreError::NoUsableBackup {
                    path: self.backup_path.clone(),
                    problem: "there is no backup".to_owned(),
                });
            }
            Examined::Damaged { problem } => {
                return Err(StoreError::NoUsableBackup { path: self.backup_path.clone(), problem });
            }
        };
        let mut set_aside = Vec::new();
        if atomic_fs::identity(&self.path).map_err(|source| self.io_error(source))?.is_some() {
            set_aside.push(self.keep_aside(&self.path, atomic_fs::set_aside)?);
        }
        self.write_without_rotation(writer, &state)?;
        let recovery = Recovery {
            path: self.path.clone(),
            action: RecoveryAction::RestoredFromBackup,
            problem: "a restore from the backup was requested".to_owned(),
            set_aside,
        };
        self.note_recovery(&recovery);
        Ok(recovery)
    }

    /// Writes `state` as the metrics file without rotating the (damaged) current file into
    /// the backup.
    fn write_without_rotation(
        &self,
        writer: &mut Writer,
        state: &DashboardState,
    ) -> Result<FileIdentity, StoreError> {
        let config = ReplaceConfig { durability: self.fs_durability(), backup: Backup::None };
        let bytes = state.to_json();
        let replaced =
            writer.guard_write(&self.path, atomic_fs::replace(&self.path, &bytes, &config))?;
        self.counters.wrote(bytes.len());
        Ok(replaced.identity)
    }

    /// Keeps `path` as `PATH.corrupt-TIMESTAMP[-N]`, never overwriting an earlier one.
    fn keep_aside(
        &self,
        path: &Path,
        keep: fn(&Path, &Path, atomic_fs::Durability) -> Result<(), atomic_fs::Error>,
    ) -> Result<PathBuf, StoreError> {
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ").to_string();
        for attempt in 0..1000 {
            let suffix = if attempt == 0 {
                format!(".corrupt-{stamp}")
            } else {
                format!(".corrupt-{stamp}-{attempt}")
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

    fn note_recovery(&self, recovery: &Recovery) {
        tracing::warn!(path = %self.path.display(), "{recovery}");
        self.counters.recovered();
        *crate::sync::lock(&self.last_recovery) = Some(recovery.clone());
    }

    pub(crate) fn newer_format(&self, found: u64) -> StoreError {
        StoreError::NewerFormat { path: self.path.clone(), found, supported: FORMAT_VERSION }
    }
}

/// A one-line description of why a file is unusable.
fn describe(err: &ValidationError, bytes: &[u8]) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return "the file is empty".to_owned();
    }
    match err {
        ValidationError::Malformed { source, .. } if source.is_eof() => {
            format!("the file is truncated: {err}")
        }
        _ => err.to_string(),
    }
}
