//! `check`: a read-only verdict on the metrics file and its backup, listing every violation.

use std::path::{Path, PathBuf};

use metrics_types::{DashboardState, FORMAT_VERSION, ValidationError, Violation};

use crate::MetricsStore;

/// The verdict on the metrics file and its backup; see [`MetricsStore::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// The metrics file.
    pub main: FileCheck,
    /// Its backup.
    pub backup: FileCheck,
    /// In journal mode, the journal: what it adds on top of the file and what in it is
    /// damaged (`None` when there is no journal).
    pub journal: Option<crate::JournalReport>,
}

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileCheck {
    /// The file.
    pub path: PathBuf,
    /// What was found.
    pub verdict: Verdict,
}

/// What checking one file found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// No file.
    Missing,
    /// Valid, holding this much.
    Sound {
        /// Stored events.
        events: usize,
        /// Stored sessions.
        sessions: usize,
        /// Agent profiles.
        agents: usize,
    },
    /// Valid, but written by a newer format version: readable, never rewritten.
    NewerFormat {
        /// The file's version.
        found: u64,
    },
    /// The file could not be read (permissions, a directory, a FIFO).
    Unreadable {
        /// Why.
        message: String,
    },
    /// Damaged, as the Python dashboard would say: not JSON (empty, truncated), not UTF-8,
    /// over the size limit, or missing a top-level key. A write keeps it aside.
    Malformed {
        /// Where parsing stopped and why.
        message: String,
    },
    /// The file loads and is used, but states things that cannot be true or holds values
    /// that cannot be read: findings. They are never damage: nothing is set aside for them.
    Invalid {
        /// Every violation, with its path.
        violations: Vec<Violation>,
    },
}

impl CheckReport {
    /// Whether the store is sound: the metrics file is valid (or absent, with no backup),
    /// and the backup is valid or absent.
    pub fn is_sound(&self) -> bool {
        let main_ok = match self.main.verdict {
            Verdict::Sound { .. } => true,
            Verdict::Missing => self.backup.verdict == Verdict::Missing,
            _ => false,
        };
        let journal_ok = self
            .journal
            .as_ref()
            .is_none_or(|journal| journal.problems.is_empty() && journal.refused.is_empty());
        main_ok
            && journal_ok
            && matches!(self.backup.verdict, Verdict::Sound { .. } | Verdict::Missing)
    }
}

impl MetricsStore {
    /// Checks the metrics file and its backup against every rule (with this handle's limits),
    /// reporting every violation. Reads only: never locks, recovers or writes.
    pub fn check(&self) -> CheckReport {
        CheckReport {
            journal: self.check_journal(),
            main: FileCheck { path: self.path.clone(), verdict: self.verdict(&self.path) },
            backup: FileCheck {
                path: self.backup_path.clone(),
                verdict: self.verdict(&self.backup_path),
            },
        }
    }

    /// The journal as a reader applies it on top of the file (or an empty state, if the file
    /// does not load).
    fn check_journal(&self) -> Option<crate::JournalReport> {
        let journal = match self.read_journal() {
            Ok(Some(journal)) => journal,
            Ok(None) => {
                let bytes = atomic_fs::read(&self.path, self.config.max_file_size).ok()??;
                return self.missing_journal_report(&DashboardState::load(&bytes.bytes).ok()?);
            }
            Err(err) => {
                return Some(crate::JournalReport {
                    path: self.journal_path.clone(),
                    applied: 0,
                    torn_tail: None,
                    problems: vec![err.to_string()],
                    refused: Vec::new(),
                    restored: 0,
                });
            }
        };
        let file_state = match atomic_fs::read(&self.path, self.config.max_file_size) {
            Ok(Some(contents)) => DashboardState::load(&contents.bytes).ok(),
            _ => None,
        };
        let mut state = file_state.unwrap_or_else(|| self.fresh_state());
        Some(self.apply_journal(&mut state, journal))
    }

    fn verdict(&self, path: &Path) -> Verdict {
        let bytes = match atomic_fs::read(path, self.config.max_file_size) {
            Ok(Some(contents)) => contents.bytes,
            Ok(None) => return Verdict::Missing,
            Err(atomic_fs::Error::TooLarge { size, limit, .. }) => {
                let message = format!("the file is {size} bytes, more than the limit of {limit}");
                return Verdict::Malformed { message };
            }
            Err(err) => return Verdict::Unreadable { message: err.to_string() },
        };
        let state = match DashboardState::load(&bytes) {
            Ok(state) => state,
            Err(err) => {
                return match DashboardState::peek_version(&bytes) {
                    Some(found) if found > FORMAT_VERSION => Verdict::NewerFormat { found },
                    _ => Verdict::Malformed { message: err.to_string() },
                };
            }
        };
        if state.is_from_newer_format() {
            return Verdict::NewerFormat { found: state.version() };
        }
        match state.validate(&self.config.limits) {
            Ok(()) => Verdict::Sound {
                events: state.events().len(),
                sessions: state.sessions().len(),
                agents: state.agents().len(),
            },
            Err(ValidationError::Invalid { violations }) => Verdict::Invalid { violations },
            Err(err) => Verdict::Malformed { message: err.to_string() },
        }
    }
}
