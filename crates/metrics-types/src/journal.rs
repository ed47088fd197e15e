//! Journal mode, the pure part: the storage marker a file carries, the entries a journal
//! holds, and folding entries into a state.
//!
//! In journal mode a commit appends one [`JournalEntry`] to a journal beside the file instead
//! of rewriting the file; a checkpoint folds the entries into the file. The file says which
//! mode its store is in, and up to which journal sequence number it holds the entries, in one
//! extra top-level object (see [`Storage`]); the Python dashboard keeps keys it does not know
//! when it rewrites the file, so the marker survives its writes.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{AgentEvent, DashboardState, Limits, SessionSummary, Timestamp, ValidationError};

/// The top-level key of the storage marker.
pub const STORAGE_KEY: &str = "agent_metrics_storage";

/// How a store commits: by rewriting the whole file, or by appending to a journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageMode {
    /// Every commit rewrites the file (the default, and all the Python dashboard knows).
    #[default]
    WholeFile,
    /// Every commit appends an entry to the journal; checkpoints fold it into the file.
    Journal,
}

/// The storage marker: the store's mode and the last journal sequence number the file holds
/// (its watermark). Written as `"agent_metrics_storage": {"mode": "journal",
/// "journal_sequence": 42}`; a file without it is in whole-file mode at sequence 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Storage {
    /// The mode.
    pub mode: StorageMode,
    /// Every journal entry with a sequence number up to this one is in the file.
    pub journal_sequence: u64,
}

/// One entry of a journal: what one commit changed, or the marker a checkpoint starts a
/// fresh journal with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalEntry {
    /// Events recorded in one commit (one event or a batch), in order.
    Events {
        /// When the commit was made.
        at: Timestamp,
        /// The events, none of them repeated.
        events: Vec<AgentEvent>,
    },
    /// A session summary recorded in one commit.
    Session {
        /// When the commit was made.
        at: Timestamp,
        /// The summary, built from the state it was committed on.
        session: Box<SessionSummary>,
    },
    /// The first entry of a journal a checkpoint wrote: the file it wrote holds every entry
    /// up to `snapshot_sequence`, and these event ids, so an appender can tell a retried
    /// event without reading the file.
    Checkpoint {
        /// The watermark of the file the checkpoint wrote.
        snapshot_sequence: u64,
        /// The ids of the events that file holds.
        event_ids: Vec<String>,
        /// An opaque token of the file the checkpoint wrote (the store's fingerprint of its
        /// identity), so an appender can tell, without reading it, that the file was
        /// rewritten since (by another program, or damaged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_fingerprint: Option<u64>,
    },
}

impl JournalEntry {
    /// The entry as one line of JSON (no newline inside: JSON escapes them).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a journal entry always serializes")
    }

    /// Parses an entry and checks every event and session in it by the same rules as a
    /// state's.
    pub fn from_json(bytes: &[u8]) -> Result<JournalEntry, ValidationError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let entry: JournalEntry =
            serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
                ValidationError::Malformed {
                    path: err.path().to_string(),
                    source: err.into_inner(),
                }
            })?;
        deserializer
            .end()
            .map_err(|source| ValidationError::Malformed { path: ".".to_owned(), source })?;
        crate::validate::standalone(|report| match &entry {
            JournalEntry::Events { events, .. } => {
                for (index, event) in events.iter().enumerate() {
                    crate::validate::event(report, event, &|| format!("events[{index}]"));
                }
            }
            JournalEntry::Session { session, .. } => {
                crate::validate::session(report, session, &|| "session".to_owned());
            }
            JournalEntry::Checkpoint { .. } => {}
        })?;
        Ok(entry)
    }

    /// The marker a checkpoint starts a fresh journal with: `state`'s watermark and every
    /// event id it knows (its events' and those its profiles remember as recent).
    pub fn checkpoint_of(state: &DashboardState) -> JournalEntry {
        JournalEntry::Checkpoint {
            snapshot_sequence: state.storage().journal_sequence,
            event_ids: state.known_event_ids(),
            file_fingerprint: None,
        }
    }

    /// Reads only what an appender needs from an entry (its kind, time, event ids and
    /// watermark), skipping the rest of each event: much cheaper than
    /// [`JournalEntry::from_json`] on a whole journal.
    pub fn summarize(bytes: &[u8]) -> Result<EntrySummary, ValidationError> {
        #[derive(Deserialize)]
        struct IdOnly {
            event_id: String,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Peek {
            Events {
                at: Timestamp,
                events: Vec<IdOnly>,
            },
            // The summary's fields are skipped: serde ignores what a variant does not name.
            Session {
                at: Timestamp,
            },
            Checkpoint {
                snapshot_sequence: u64,
                event_ids: Vec<String>,
                #[serde(default)]
                file_fingerprint: Option<u64>,
            },
        }
        let peek: Peek = serde_json::from_slice(bytes)
            .map_err(|source| ValidationError::Malformed { path: ".".to_owned(), source })?;
        Ok(match peek {
            Peek::Events { at, events } => EntrySummary {
                committed_at: Some(at),
                event_ids: events.into_iter().map(|event| event.event_id).collect(),
                snapshot_sequence: None,
                file_fingerprint: None,
            },
            Peek::Session { at } => EntrySummary {
                committed_at: Some(at),
                event_ids: Vec::new(),
                snapshot_sequence: None,
                file_fingerprint: None,
            },
            Peek::Checkpoint { snapshot_sequence, event_ids, file_fingerprint } => EntrySummary {
                committed_at: None,
                event_ids,
                snapshot_sequence: Some(snapshot_sequence),
                file_fingerprint,
            },
        })
    }

    /// The event ids an entry holds (recorded, or known to the file for a checkpoint).
    pub fn event_ids(&self) -> Vec<&str> {
        match self {
            JournalEntry::Events { events, .. } => {
                events.iter().map(|event| event.event_id.as_str()).collect()
            }
            JournalEntry::Checkpoint { event_ids, .. } => {
                event_ids.iter().map(String::as_str).collect()
            }
            JournalEntry::Session { .. } => Vec::new(),
        }
    }

    /// When the commit was made (`None` for a checkpoint marker).
    pub fn committed_at(&self) -> Option<Timestamp> {
        match self {
            JournalEntry::Events { at, .. } | JournalEntry::Session { at, .. } => Some(*at),
            JournalEntry::Checkpoint { .. } => None,
        }
    }
}

/// What an appender reads of an entry ([`JournalEntry::summarize`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    /// When the commit was made (`None` for a checkpoint marker).
    pub committed_at: Option<Timestamp>,
    /// The event ids it holds (recorded, or known to the file for a checkpoint marker).
    pub event_ids: Vec<String>,
    /// For a checkpoint marker, the watermark of the file it wrote.
    pub snapshot_sequence: Option<u64>,
    /// For a checkpoint marker, the token of the file it wrote.
    pub file_fingerprint: Option<u64>,
}

/// An entry the state could not take when it was folded in: kept by the caller, never
/// silently dropped.
#[derive(Debug)]
pub struct RefusedEntry {
    /// The journal sequence number of the entry.
    pub sequence: u64,
    /// The event id or session id refused.
    pub id: String,
    /// Why (a total would overflow; a value it would rewrite is unreadable).
    pub error: ValidationError,
}

/// What folding journal entries into a state did.
#[derive(Debug, Default)]
pub struct Folded {
    /// Entries with a sequence number above the watermark, folded in.
    pub entries: usize,
    /// Events and sessions added.
    pub recorded: usize,
    /// Events and sessions skipped because the state already held their id.
    pub duplicates: usize,
    /// Oldest events and sessions evicted to stay within the limits.
    pub evicted: usize,
    /// Events and sessions the state could not take.
    pub refused: Vec<RefusedEntry>,
}

impl DashboardState {
    /// The storage marker of this state ([`Storage::default`] when the file has none or it
    /// cannot be read).
    pub fn storage(&self) -> Storage {
        self.unknown
            .get(STORAGE_KEY)
            .and_then(|value| Storage::deserialize(value).ok())
            .unwrap_or_default()
    }

    /// Sets the storage marker. Whole-file mode at sequence 0 removes it, so a store that
    /// never used a journal keeps the Python dashboard's exact set of keys.
    pub fn set_storage(&mut self, storage: Storage) {
        if storage == Storage::default() {
            self.unknown.shift_remove(STORAGE_KEY);
        } else {
            let value = serde_json::to_value(storage).expect("the marker always serializes");
            self.unknown.insert(STORAGE_KEY.to_owned(), value);
        }
    }

    /// Folds journal entries into the state, in order: those with a sequence number above
    /// the state's watermark are applied (events and sessions by id, so an id the state
    /// already holds changes nothing), the oldest beyond `limits` are evicted once at the
    /// end, and the watermark and `updated_at` move to the last entry's. Entries at or below
    /// the watermark are already in the state and are skipped.
    ///
    /// An event or session the state cannot take (a total would overflow, or a value it
    /// would rewrite is unreadable) is left out and listed in [`Folded::refused`]; the rest
    /// still apply, as each was acknowledged on its own.
    pub fn fold_journal(
        &mut self,
        entries: impl IntoIterator<Item = (u64, JournalEntry)>,
        limits: &Limits,
    ) -> Folded {
        let mut storage = self.storage();
        let mut folded = Folded::default();
        let mut known: Option<HashSet<String>> = None;
        let mut last_commit = None;
        for (sequence, entry) in entries {
            if sequence <= storage.journal_sequence {
                continue;
            }
            storage.journal_sequence = sequence;
            folded.entries += 1;
            last_commit = entry.committed_at().or(last_commit);
            match entry {
                JournalEntry::Events { events, .. } => {
                    let known = known.get_or_insert_with(|| {
                        self.events.iter().map(|event| event.event_id.clone()).collect()
                    });
                    for event in events {
                        self.fold_event(sequence, event, known, &mut folded);
                    }
                }
                JournalEntry::Session { session, .. } => {
                    let id = session.session_id.clone();
                    match self.record_session(*session, limits) {
                        Ok(crate::RecordOutcome::Duplicate) => folded.duplicates += 1,
                        Ok(crate::RecordOutcome::Recorded { .. }) => folded.recorded += 1,
                        Err(error) => folded.refused.push(RefusedEntry { sequence, id, error }),
                    }
                }
                JournalEntry::Checkpoint { .. } => {}
            }
        }
        folded.evicted = self.enforce_limits(limits);
        if folded.entries > 0 {
            self.set_storage(storage);
            if let Some(at) = last_commit
                .filter(|at| self.updated_at.is_none_or(|now| at.instant() > now.instant()))
            {
                self.touch(at);
            }
        }
        folded
    }

    /// Every event id this state knows, once each: its events' and those its profiles remember
    /// as recent (what a checkpoint marker lists).
    pub fn known_event_ids(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.events
            .iter()
            .map(|event| event.event_id.as_str())
            .chain(self.agents.values().flat_map(|p| p.recent_events.iter().map(String::as_str)))
            .filter(|id| seen.insert(*id))
            .map(str::to_owned)
            .collect()
    }

    /// The event ids of `marker_ids` (a checkpoint marker's) that this state knows nowhere:
    /// not among its events, nor among the recent events its profiles remember. Empty unless
    /// a writer wrote back a state older than that checkpoint, losing what the checkpoint
    /// had folded in (the Python dashboard's `load()` ... `save()` spanning checkpoints).
    pub fn unknown_event_ids<'a>(&self, marker_ids: &'a [String]) -> Vec<&'a str> {
        let known: HashSet<&str> = self
            .events
            .iter()
            .map(|event| event.event_id.as_str())
            .chain(self.agents.values().flat_map(|p| p.recent_events.iter().map(String::as_str)))
            .collect();
        marker_ids.iter().map(String::as_str).filter(|id| !known.contains(id)).collect()
    }

    /// Re-applies from `checkpointed` (a file a checkpoint wrote, newer than this state) the
    /// events and sessions this state lacks, with the same transitions a fold uses (totals
    /// and profiles move; ids this state knows change nothing), then evicts beyond `limits`.
    /// For a state written back from an older generation over `checkpointed`: what that
    /// writer never saw comes back. Re-applied events go after this state's own (their
    /// order in the list, not their times, changes).
    pub fn reapply_from(&mut self, checkpointed: &DashboardState, limits: &Limits) -> Folded {
        let mut folded = Folded::default();
        let mut known: HashSet<String> =
            self.events.iter().map(|event| event.event_id.clone()).collect();
        for event in &checkpointed.events {
            self.fold_event(0, event.clone(), &mut known, &mut folded);
        }
        for session in &checkpointed.sessions {
            if self.sessions.iter().any(|kept| kept.session_id == session.session_id) {
                continue;
            }
            let id = session.session_id.clone();
            match self.record_session(session.clone(), limits) {
                Ok(crate::RecordOutcome::Duplicate) => folded.duplicates += 1,
                Ok(crate::RecordOutcome::Recorded { .. }) => folded.recorded += 1,
                Err(error) => folded.refused.push(RefusedEntry { sequence: 0, id, error }),
            }
        }
        folded.entries = folded.recorded;
        folded.evicted = self.enforce_limits(limits);
        folded
    }

    fn fold_event(
        &mut self,
        sequence: u64,
        event: AgentEvent,
        known: &mut HashSet<String>,
        folded: &mut Folded,
    ) {
        let in_profile = self
            .agents
            .get(&event.agent_name)
            .is_some_and(|profile| profile.recent_events.contains(&event.event_id));
        if in_profile || known.contains(&event.event_id) {
            folded.duplicates += 1;
            return;
        }
        let id = event.event_id.clone();
        match self.append_event(event) {
            Ok(()) => {
                known.insert(id);
                folded.recorded += 1;
            }
            Err(error) => folded.refused.push(RefusedEntry { sequence, id, error }),
        }
    }
}

#[cfg(test)]
mod tests;
