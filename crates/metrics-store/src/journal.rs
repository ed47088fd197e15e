//! Journal mode: a commit appends one entry to `X.journal` and flushes it; a checkpoint folds
//! the journal into the file through the durable replace and starts a fresh journal.
//!
//! The pure parts (the storage marker, the entries, folding) are in `metrics-types`; the
//! record format and the flushed append in `atomic_fs::journal`. This module joins them:
//!
//! - **append** ([`MetricsStore::append_events`]): under the lock, the journal's index (its
//!   next sequence number and the event ids it and the file hold, kept by the handle while
//!   the journal is the generation it read) decides what is new; the entry is appended and
//!   flushed; then, if the journal holds [`CheckpointPolicy::max_entries`] entries or its
//!   oldest is [`CheckpointPolicy::max_age`] old, the same writer checkpoints. The file is
//!   never parsed to append;
//! - **checkpoint** (any whole-file write on a store with a journal): the journal's entries
//!   above the file's watermark are folded into the state, the state is committed with the
//!   new watermark, and only then is the journal replaced by a fresh one: a marker holding
//!   the watermark and the ids the file knows, followed by the entries just folded (kept one
//!   generation, so a reader falling back to the backup, whose watermark is older, still
//!   finds them);
//! - **read** ([`MetricsStore::load`]): the journal first, then the file, then the entries
//!   above the file's watermark. Reading the journal first means a checkpoint between the
//!   two reads cannot hide an entry: whatever the journal read lacks is in the newer file.

use std::collections::HashSet;
use std::fs::File;
use std::path::PathBuf;
use std::time::Duration;

use atomic_fs::journal::{self as log, JournalRecord};
use atomic_fs::{Backup, FileIdentity, FileLock, ReplaceConfig};
use metrics_types::{
    AgentEvent, BatchOutcome, DashboardState, JournalEntry, StorageMode, Timestamp,
};

use crate::recover::Examined;
use crate::store::{Attempt, Cached, Writer};
use crate::{MetricsStore, StoreError};

/// By default a writer checkpoints once the journal holds this many entries the file lacks
/// (see `docs/benchmarks.md` for the measurement behind it).
pub const DEFAULT_CHECKPOINT_ENTRIES: usize = 64;

/// By default a writer checkpoints once the oldest entry the file lacks is this old, which
/// bounds how far behind the file (all the Python dashboard reads) can be while writes go on.
pub const DEFAULT_CHECKPOINT_AGE: Duration = Duration::from_secs(2);

/// When a writer in journal mode folds the journal into the file after its append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointPolicy {
    /// Checkpoint once the journal holds this many entries the file lacks.
    pub max_entries: usize,
    /// Checkpoint once the oldest entry the file lacks is this old.
    pub max_age: Duration,
}

impl Default for CheckpointPolicy {
    fn default() -> CheckpointPolicy {
        CheckpointPolicy {
            max_entries: DEFAULT_CHECKPOINT_ENTRIES,
            max_age: DEFAULT_CHECKPOINT_AGE,
        }
    }
}

/// What a read found in the journal, beside the state it built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalReport {
    /// The journal.
    pub path: PathBuf,
    /// Entries applied on top of the file (those above its watermark).
    pub applied: usize,
    /// Bytes of a last entry a crash cut short: never acknowledged, ignored (the next writer
    /// cuts them off).
    pub torn_tail: Option<u64>,
    /// Damaged or unreadable entries, skipped: the next writer keeps the journal aside.
    pub problems: Vec<String>,
    /// Events or sessions the state could not take (a total would overflow, say), skipped:
    /// a checkpoint keeps them aside.
    pub refused: Vec<String>,
    /// Events and sessions that a write of an older state (the Python dashboard's `load()`
    /// ... `save()` spanning checkpoints) had dropped from the file, taken back from the
    /// checkpoint's file (the backup); the next write puts them back in the file.
    pub restored: usize,
}

/// A journal read in full by a writer or a reader: its records checked, not yet decoded.
pub(crate) struct JournalRead {
    /// The good records, marker included, in order: what a rewrite keeps.
    records: Vec<JournalRecord>,
    /// Damage, and entries found undecodable, described.
    problems: Vec<String>,
    torn_tail: Option<u64>,
    /// Where the good records end (a torn tail starts here).
    valid_len: u64,
}

impl JournalRead {
    fn is_clean(&self) -> bool {
        self.problems.is_empty() && self.torn_tail.is_none()
    }

    /// What the journal's marker (its first record) says of the file its checkpoint wrote:
    /// its watermark and fingerprint.
    fn marker(&self) -> Option<(u64, Option<u64>)> {
        let first = self.records.first()?;
        let summary = JournalEntry::summarize(&first.payload).ok()?;
        Some((summary.snapshot_sequence?, summary.file_fingerprint))
    }

    /// Decodes the entries above `watermark` (those below are in the file already, so a
    /// reader never pays for them); an undecodable one is noted as a problem.
    fn marker_summary(&self) -> Option<metrics_types::EntrySummary> {
        let first = self.records.first()?;
        JournalEntry::summarize(&first.payload).ok().filter(|s| s.snapshot_sequence.is_some())
    }

    /// The last sequence number the journal holds whole.
    fn last_sequence(&self) -> Option<u64> {
        self.records.last().map(|record| record.sequence)
    }

    fn decode_above(&mut self, watermark: u64) -> Vec<(u64, JournalEntry)> {
        let mut entries = Vec::new();
        for record in self.records.iter().filter(|record| record.sequence > watermark) {
            match JournalEntry::from_json(&record.payload) {
                Ok(entry) => entries.push((record.sequence, entry)),
                Err(err) => self.problems.push(format!("entry {}: {err}", record.sequence)),
            }
        }
        entries
    }
}

/// What a handle knows of the journal for appending, kept while the journal is the
/// generation it describes (the file held open, as for [`Cached`]).
#[derive(Debug)]
pub(crate) struct JournalIndex {
    identity: FileIdentity,
    _file: File,
    /// The journal open for appending, once this handle appended to it.
    appender: Option<log::JournalWriter>,
    /// The fingerprint of the file the marker's checkpoint wrote: if the file at the path
    /// has another, something else rewrote it (or damaged it) since.
    file_fingerprint: Option<u64>,
    next_sequence: u64,
    /// Every event id the file (per the marker) and the journal hold.
    event_ids: HashSet<String>,
    /// Entries above the watermark, and the time of the oldest.
    pending: usize,
    oldest_pending: Option<Timestamp>,
    /// No torn tail, no damage, a marker first: appendable as it is.
    clean: bool,
    /// The directory was flushed by this handle since the journal was created, so its name
    /// is durable and an append needs only the file's flush.
    dir_synced: bool,
}

impl JournalIndex {
    fn build(journal: log::Journal) -> JournalIndex {
        let mut clean = journal.is_clean();
        let mut snapshot_sequence = None;
        let mut file_fingerprint = None;
        let mut event_ids = HashSet::new();
        let mut entries = Vec::new();
        for (position, record) in journal.records.iter().enumerate() {
            match JournalEntry::summarize(&record.payload) {
                Ok(summary) => {
                    if position == 0 {
                        snapshot_sequence = summary.snapshot_sequence;
                        file_fingerprint = summary.file_fingerprint;
                    }
                    event_ids.extend(summary.event_ids);
                    entries.push((record.sequence, summary.committed_at));
                }
                Err(_) => clean = false,
            }
        }
        let snapshot_sequence = snapshot_sequence.unwrap_or_else(|| {
            clean = false;
            0
        });
        let pending_entries = entries.iter().filter(|(sequence, committed_at)| {
            *sequence > snapshot_sequence && committed_at.is_some()
        });
        let pending = pending_entries.clone().count();
        let oldest_pending =
            pending_entries.filter_map(|(_, at)| *at).min_by_key(Timestamp::instant);
        JournalIndex {
            next_sequence: journal.next_sequence().unwrap_or(snapshot_sequence + 1),
            identity: journal.identity,
            _file: journal.file,
            appender: None,
            file_fingerprint,
            event_ids,
            pending,
            oldest_pending,
            clean,
            dir_synced: false,
        }
    }

    fn is_due(&self, policy: &CheckpointPolicy, now: Timestamp) -> bool {
        let too_old = self.oldest_pending.is_some_and(|oldest| {
            let age = now.instant().duration_since(oldest.instant());
            age.as_secs_f64() >= policy.max_age.as_secs_f64()
        });
        self.pending >= policy.max_entries || too_old
    }
}

impl MetricsStore {
    /// The journal beside the file: `X.journal` for `X.json`. It exists only in journal mode.
    pub fn journal_path(&self) -> &std::path::Path {
        &self.journal_path
    }

    /// Folds the journal into the file now (a checkpoint), under the lock, and repairs it
    /// (cuts a torn tail, keeps a damaged journal aside). Writes nothing when the file is
    /// already complete or there is no journal. Returns how many entries were folded.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        let before = self.counters.snapshot().entries_folded;
        self.with_lock_timeout(self.config.lock_timeout).update_if(|_| Ok(false))?;
        Ok(self.counters.snapshot().entries_folded - before)
    }

    /// Switches the store between whole-file and journal mode, for every writer (the mode
    /// is recorded in the file). Turning the journal off folds it in first, then removes it.
    pub fn set_storage_mode(&self, mode: StorageMode) -> Result<(), StoreError> {
        self.with_lock_timeout(self.config.lock_timeout).update_if(|state| {
            let mut storage = state.storage();
            let changed = storage.mode != mode;
            storage.mode = mode;
            state.set_storage(storage);
            Ok(changed)
        })
    }

    /// Journal mode's commit of events, under both locks. `Ok(Attempt::Done(None))` when the
    /// store has no journal: the caller makes a whole-file write.
    pub(crate) fn append_events_locked(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        events: &[AgentEvent],
    ) -> Result<Attempt<Option<BatchOutcome>>, StoreError> {
        let mut index = match self.appendable_index(writer, file_lock)? {
            Attempt::Done(Some(index)) => index,
            Attempt::Done(None) => return Ok(Attempt::Done(None)),
            Attempt::LockLost => return Ok(Attempt::LockLost),
        };
        let mut outcome = BatchOutcome::default();
        let mut new = Vec::new();
        let mut in_batch = HashSet::new();
        for event in events {
            let id = event.event_id();
            if index.event_ids.contains(id) || !in_batch.insert(id) {
                outcome.duplicates += 1;
                outcome.duplicate_ids.push(id.to_owned());
            } else {
                new.push(event.clone());
            }
        }
        outcome.recorded = new.len();
        if new.is_empty() {
            writer.journal = Some(index);
            return Ok(Attempt::Done(Some(outcome)));
        }
        let ids: Vec<String> = new.iter().map(|event| event.event_id().to_owned()).collect();
        let entry = JournalEntry::Events { at: Timestamp::now(), events: new };
        if let Attempt::LockLost = self.append_entry(writer, file_lock, &mut index, &entry)? {
            return Ok(Attempt::LockLost);
        }
        index.event_ids.extend(ids);
        Ok(self.after_append(writer, file_lock, index, outcome))
    }

    /// Journal mode's commit of a session summary, under both locks: `build` runs on the
    /// file plus the journal (so the summary's number and totals count every event
    /// acknowledged), and the summary is appended. `Ok(Attempt::Done(None))` without a
    /// journal.
    pub(crate) fn append_session_locked<E>(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        build: &mut impl FnMut(&DashboardState) -> Result<metrics_types::SessionSummary, E>,
    ) -> Result<Attempt<Option<metrics_types::RecordOutcome>>, StoreError>
    where
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mut index = match self.appendable_index(writer, file_lock)? {
            Attempt::Done(Some(index)) => index,
            Attempt::Done(None) => return Ok(Attempt::Done(None)),
            Attempt::LockLost => return Ok(Attempt::LockLost),
        };
        let mut state = self.state_with_journal(writer)?;
        let session = build(&state).map_err(|source| StoreError::Rejected {
            path: self.path.clone(),
            source: source.into(),
        })?;
        // On a copy: what folding will do, refused here rather than kept aside later.
        let outcome = state
            .record_session(session.clone(), &self.config.limits)
            .map_err(|source| StoreError::Invalid { path: self.path.clone(), source })?;
        if outcome == metrics_types::RecordOutcome::Duplicate {
            writer.journal = Some(index);
            return Ok(Attempt::Done(Some(outcome)));
        }
        let entry = JournalEntry::Session { at: Timestamp::now(), session: Box::new(session) };
        if let Attempt::LockLost = self.append_entry(writer, file_lock, &mut index, &entry)? {
            return Ok(Attempt::LockLost);
        }
        let recorded = metrics_types::RecordOutcome::Recorded { evicted: 0 };
        Ok(self.after_append(writer, file_lock, index, recorded))
    }

    /// Under both locks: the journal's index, ready for an append: no torn tail, no
    /// damage, and the file the one its marker names. Otherwise a checkpoint runs first (it
    /// folds what can be read, keeps damage aside, reads a file rewritten since, recovering
    /// it if damaged, and starts a clean journal), so nothing is acknowledged on top of a
    /// file nobody has read. `Done(None)` when the store has no journal.
    fn appendable_index(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
    ) -> Result<Attempt<Option<JournalIndex>>, StoreError> {
        writer.check_not_poisoned(&self.path)?;
        let Some(index) = self.journal_index(writer)? else {
            return Ok(Attempt::Done(None));
        };
        if index.clean && !self.file_changed_since(&index)? {
            return Ok(Attempt::Done(Some(index)));
        }
        drop(index);
        if let Attempt::LockLost = self.checkpoint_locked(writer, file_lock)? {
            return Ok(Attempt::LockLost);
        }
        Ok(Attempt::Done(match self.journal_index(writer)? {
            Some(fresh) if fresh.clean && fresh.file_fingerprint.is_some() => Some(fresh),
            // Turned off meanwhile, or still not clean: the whole-file path decides.
            _ => None,
        }))
    }

    /// Whether the file at the path is not the one the journal's marker names.
    fn file_changed_since(&self, index: &JournalIndex) -> Result<bool, StoreError> {
        let now = atomic_fs::identity(&self.path).map_err(|source| self.io_error(source))?;
        Ok(now.map(|identity| identity.fingerprint()) != index.file_fingerprint)
    }

    /// Under both locks: the file's state (as the handle cached it, or read) with the
    /// journal folded in, for a commit that needs the whole state. The cache keeps the file's
    /// own state.
    fn state_with_journal(&self, writer: &mut Writer) -> Result<DashboardState, StoreError> {
        let (file_state, read) = self.current_state(writer)?;
        let mut state = file_state.clone();
        writer.restore_cached(read, file_state);
        if let Some(mut journal) = self.read_journal()? {
            let entries = journal.decode_above(state.storage().journal_sequence);
            let _ = state.fold_journal(entries, &self.config.limits);
        }
        Ok(state)
    }

    /// Appends one entry and flushes it, updating the index; the entry is durable when this
    /// returns `Ok(Attempt::Done(()))`. `LockLost`: nothing was written, start again.
    fn append_entry(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        index: &mut JournalIndex,
        entry: &JournalEntry,
    ) -> Result<Attempt<()>, StoreError> {
        let payload = entry.to_json();
        self.check_payload(&payload)?;
        let record = log::encode_record(index.next_sequence, &payload)
            .expect("compact JSON never holds a raw newline");
        let durability = self.fs_durability();
        if !index.dir_synced {
            // The journal's name must be durable before an entry in it is acknowledged; the
            // writer that created it flushed the directory, unless that flush failed.
            let synced = atomic_fs::sync_directory_of(&self.journal_path, durability);
            writer.guard_write(&self.path, synced)?;
            index.dir_synced = true;
        }
        let mut appender = match index.appender.take() {
            Some(appender) if appender.identity() == index.identity => appender,
            _ => {
                let opened = log::JournalWriter::open(&self.journal_path, &index.identity);
                writer.guard_write(&self.path, opened)?
            }
        };
        let appended = appender.append(&record, file_lock, durability);
        if let Err(atomic_fs::Error::LockLost { .. }) = appended {
            return Ok(Attempt::LockLost);
        }
        // On any failure the journal may end in part of the record: read it afresh next time.
        index.identity = writer.guard_write(&self.path, appended)?;
        // After the flush: a later reader that finds the journal short of this number knows
        // acknowledged entries were cut (not flushed: a stale note only says less).
        let _ = file_lock.write_note(&acknowledged_note(index.next_sequence));
        index.appender = Some(appender);
        index.next_sequence += 1;
        index.pending += 1;
        if let Some(at) = entry.committed_at() {
            index.oldest_pending.get_or_insert(at);
        }
        self.counters.appended(record.len());
        Ok(Attempt::Done(()))
    }

    /// After an acknowledged append: keeps the index and, if the journal crossed the
    /// threshold, checkpoints (the entry stands whatever the checkpoint does).
    fn after_append<T>(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        index: JournalIndex,
        outcome: T,
    ) -> Attempt<Option<T>> {
        let due = index.is_due(&self.config.checkpoint, Timestamp::now());
        writer.journal = Some(index);
        if due && let Err(err) = self.checkpoint_locked(writer, file_lock) {
            self.counters.checkpoint_failed();
            tracing::warn!(path = %self.path.display(), "checkpoint after append failed: {err}");
        }
        Attempt::Done(Some(outcome))
    }

    /// Under both locks: a whole-file write that only folds the journal (if anything needs
    /// folding or repairing).
    fn checkpoint_locked(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
    ) -> Result<Attempt<()>, StoreError> {
        self.transact_locked(writer, file_lock, &mut |_| Ok(crate::store::Change::Unchanged(())))
    }

    /// The handle's journal index if the journal is still that generation, else the
    /// journal read afresh; `None` when there is no journal.
    fn journal_index(&self, writer: &mut Writer) -> Result<Option<JournalIndex>, StoreError> {
        if let Some(index) = writer.journal.take() {
            let now =
                atomic_fs::identity(&self.journal_path).map_err(|source| self.io_error(source))?;
            if Cached::is_current(now, &index.identity) {
                return Ok(Some(index));
            }
        }
        let journal = log::read_journal(&self.journal_path, self.config.max_file_size)
            .map_err(|source| self.io_error(source))?;
        Ok(journal.map(JournalIndex::build))
    }

    /// Reads and decodes the whole journal; `None` when there is none.
    pub(crate) fn read_journal(&self) -> Result<Option<JournalRead>, StoreError> {
        let Some(journal) = log::read_journal(&self.journal_path, self.config.max_file_size)
            .map_err(|source| self.io_error(source))?
        else {
            return Ok(None);
        };
        let problems = journal
            .damage
            .iter()
            .map(|damage| {
                format!("line {} (byte {}): {}", damage.line, damage.offset, damage.problem)
            })
            .collect();
        Ok(Some(JournalRead {
            records: journal.records,
            problems,
            torn_tail: journal.torn_tail,
            valid_len: journal.valid_len,
        }))
    }

    /// A reader's view: folds the journal (if any) into a state read from the file, takes
    /// back from the backup what a write of an older state dropped, and reports a cut that
    /// removed acknowledged entries as a problem.
    pub(crate) fn apply_journal(
        &self,
        state: &mut DashboardState,
        mut journal: JournalRead,
    ) -> JournalReport {
        let file_watermark = state.storage().journal_sequence;
        self.check_for_cut(&mut journal, file_watermark);
        let entries = journal.decode_above(file_watermark);
        let folded = state.fold_journal(entries, &self.config.limits);
        let (restored, lost) = self.restore_from_checkpoint(state, &journal, file_watermark);
        if !lost.is_empty() {
            journal.problems.push(lost_message(&lost));
        }
        JournalReport {
            path: self.journal_path.clone(),
            applied: folded.entries,
            torn_tail: journal.torn_tail,
            problems: journal.problems,
            refused: folded
                .refused
                .iter()
                .map(|refused| {
                    format!("entry {}: {} ({})", refused.sequence, refused.id, refused.error)
                })
                .collect(),
            restored,
        }
    }

    /// For a file in journal mode without a journal: a report of the acknowledged entries
    /// the missing journal took with it, if the lock file's note names any beyond the file's
    /// watermark; `None` when nothing is missing.
    pub(crate) fn missing_journal_report(&self, state: &DashboardState) -> Option<JournalReport> {
        let storage = state.storage();
        if storage.mode != StorageMode::Journal {
            return None;
        }
        let acknowledged = self.acknowledged_through()?;
        (acknowledged > storage.journal_sequence).then(|| JournalReport {
            path: self.journal_path.clone(),
            applied: 0,
            torn_tail: None,
            problems: vec![format!(
                "the journal is missing, but entries {} to {acknowledged} were acknowledged (the lock file records appends through {acknowledged}) and the file holds only through {}",
                storage.journal_sequence + 1,
                storage.journal_sequence
            )],
            refused: Vec::new(),
            restored: 0,
        })
    }

    /// How far the journal was acknowledged, as the lock file's note says (see
    /// [`acknowledged_note`]); `None` when it says nothing readable.
    fn acknowledged_through(&self) -> Option<u64> {
        let note = FileLock::read_note(&self.lock_path, 4096).ok()??;
        parse_acknowledged_note(&note)
    }

    /// Adds to `journal`'s problems a cut that provably removed acknowledged entries: the
    /// lock file's note says entries through N were acknowledged, and neither the journal
    /// (whole records) nor the file (its watermark) reaches N. A crash mid-append cannot do
    /// this: the note is written only after the entry's flush.
    fn check_for_cut(&self, journal: &mut JournalRead, file_watermark: u64) {
        let Some(acknowledged) = self.acknowledged_through() else { return };
        let held = journal.last_sequence().unwrap_or(0).max(file_watermark);
        if acknowledged > held {
            journal.problems.push(format!(
                "entries {} to {acknowledged} were acknowledged (the lock file records appends through {acknowledged}) but the journal holds entries only through {held}: they were cut from it",
                held + 1
            ));
        }
    }

    /// The file's watermark went back below the journal marker's (a writer wrote back a state
    /// loaded before the marker's checkpoint: the Python dashboard's `load()` ... `save()`
    /// spanning checkpoints): applies again, from the backup when it is that checkpoint's
    /// file or later, what `state` lacks. Returns how many events and sessions came back,
    /// and the acknowledged event ids (named by the marker) still found nowhere.
    fn restore_from_checkpoint(
        &self,
        state: &mut DashboardState,
        journal: &JournalRead,
        file_watermark: u64,
    ) -> (usize, Vec<String>) {
        let Some(marker) = journal.marker_summary() else { return (0, Vec::new()) };
        let marker_watermark = marker.snapshot_sequence.unwrap_or(0);
        if marker_watermark <= file_watermark {
            return (0, Vec::new());
        }
        let mut restored = 0;
        if let Ok(Examined::Good { state: backup, .. }) = self.examine(&self.backup_path)
            && backup.storage().journal_sequence >= marker_watermark
        {
            restored = state.reapply_from(&backup, &self.config.limits).recorded;
        }
        let lost = state.unknown_event_ids(&marker.event_ids);
        (restored, lost.into_iter().map(str::to_owned).collect())
    }

    /// Under both locks, before a whole-file change: folds the journal into `state`, keeping
    /// a damaged journal and refused entries aside first. Returns what the write must do to
    /// the journal afterwards.
    pub(crate) fn fold_for_write(
        &self,
        state: &mut DashboardState,
        file: Option<&FileIdentity>,
    ) -> Result<JournalPlan, StoreError> {
        let journal = self.read_journal()?;
        let old_watermark = state.storage().journal_sequence;
        let Some(mut journal) = journal else {
            // A file in journal mode without its journal (a crash while turning the mode
            // on): the write creates it.
            let needed = state.storage().mode == StorageMode::Journal;
            return Ok(JournalPlan { retained: Vec::new(), needs_write: needed, exists: false });
        };
        self.check_for_cut(&mut journal, old_watermark);
        if let Some(torn) = journal.torn_tail.filter(|torn| *torn > 0) {
            self.keep_torn_tail(journal.valid_len, torn)?;
        }
        let entries = journal.decode_above(old_watermark);
        if !journal.problems.is_empty() {
            let aside = self.keep_aside(&self.journal_path, "corrupt", atomic_fs::set_aside)?;
            self.note_recovery(&crate::Recovery {
                path: self.journal_path.clone(),
                action: crate::RecoveryAction::JournalKeptAside,
                problem: journal.problems.join("; "),
                set_aside: vec![aside],
            });
        }
        let clean = journal.is_clean();
        let marker_is_current =
            journal.marker() == Some((old_watermark, file.map(FileIdentity::fingerprint)));
        // The entries this write folds, kept one more generation in the fresh journal; only
        // from a clean journal, whose numbers follow each other (the fresh journal must too).
        let retained: Vec<JournalRecord> = if clean {
            let above = journal.records.iter().filter(|record| record.sequence > old_watermark);
            above.cloned().collect()
        } else {
            Vec::new()
        };
        let folded = state.fold_journal(entries, &self.config.limits);
        if !folded.refused.is_empty() {
            self.keep_refused(&folded.refused)?;
        }
        self.counters.folded(folded.entries as u64);
        let (restored, lost) = self.restore_from_checkpoint(state, &journal, old_watermark);
        if restored > 0 || !lost.is_empty() {
            let mut set_aside = Vec::new();
            if !lost.is_empty() {
                let text: String = lost.iter().map(|id| format!("{id}\n")).collect();
                set_aside.push(self.write_aside("lost", text.as_bytes())?);
            }
            self.note_recovery(&crate::Recovery {
                path: self.path.clone(),
                action: crate::RecoveryAction::ReappliedFromBackup { restored, lost },
                problem: format!(
                    "its watermark {old_watermark} is below the journal checkpoint's {}",
                    journal.marker_summary().and_then(|m| m.snapshot_sequence).unwrap_or(0)
                ),
                set_aside,
            });
        }
        let needs_write = folded.entries > 0
            || restored > 0
            || !clean
            || !marker_is_current
            || state.storage().mode == StorageMode::WholeFile;
        Ok(JournalPlan { retained, needs_write, exists: true })
    }

    /// Keeps events and sessions the state could not take in `X.journal.refused-STAMP`, one
    /// line each with the reason, so a person can mend and re-record them.
    fn keep_refused(&self, refused: &[metrics_types::RefusedEntry]) -> Result<(), StoreError> {
        let mut text = String::new();
        for entry in refused {
            text.push_str(&format!("entry {} {}: {}\n", entry.sequence, entry.id, entry.error));
        }
        let path = self.write_aside("refused", text.as_bytes())?;
        tracing::warn!(path = %path.display(), "{} journal entries could not be applied; kept aside", refused.len());
        Ok(())
    }

    /// Keeps the bytes after the journal's last whole record (`torn` of them, from
    /// `valid_len`) in `X.journal.torn-STAMP` before a rewrite drops them: a crash mid-append
    /// leaves such bytes (never acknowledged), and so does a cut, which may have removed
    /// acknowledged ones.
    fn keep_torn_tail(&self, valid_len: u64, torn: u64) -> Result<(), StoreError> {
        let Some(contents) = atomic_fs::read(&self.journal_path, self.config.max_file_size)
            .map_err(|source| self.io_error(source))?
        else {
            return Ok(());
        };
        let start = usize::try_from(valid_len).unwrap_or(usize::MAX).min(contents.bytes.len());
        let tail = &contents.bytes[start..];
        if tail.is_empty() || tail.iter().all(|byte| *byte == 0) {
            // Zero-filled: what a crash leaves when the size reached the disk but the data
            // did not; nothing to keep.
            return Ok(());
        }
        let path = self.write_aside("torn", tail)?;
        tracing::warn!(path = %path.display(), bytes = torn, "the journal ended in an incomplete entry; its bytes are kept aside");
        Ok(())
    }

    /// Writes `bytes` durably to a new `X.journal.LABEL-TIMESTAMP[-N]` (never over an
    /// existing one); returns its path.
    fn write_aside(&self, label: &str, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        let stamp = crate::recover::aside_stamp();
        let config = ReplaceConfig { durability: self.fs_durability(), backup: Backup::None };
        for attempt in 0..1000 {
            let suffix = if attempt == 0 {
                format!(".{label}-{stamp}")
            } else {
                format!(".{label}-{stamp}-{attempt}")
            };
            let path = crate::config::sibling(&self.journal_path, &suffix);
            if std::fs::symlink_metadata(&path).is_ok() {
                continue;
            }
            atomic_fs::replace(&path, bytes, &config).map_err(|source| self.io_error(source))?;
            return Ok(path);
        }
        let message = format!("a thousand {label} files from this second already exist");
        Err(StoreError::Config { message })
    }

    /// Under both locks, after the file was committed with `state`'s watermark: in journal
    /// mode, replaces the journal by a fresh one (the marker, then the entries just folded);
    /// in whole-file mode, removes a journal left over. A failure here leaves the old
    /// journal, whose entries the file now holds: harmless, so it is logged, except a
    /// failed flush, which poisons the handle as any failed flush does.
    pub(crate) fn finish_journal(
        &self,
        writer: &mut Writer,
        file_lock: &FileLock,
        finish: JournalFinish,
        written: FileIdentity,
        plan: JournalPlan,
    ) -> Result<(), StoreError> {
        writer.journal = None;
        let durability = self.fs_durability();
        let (snapshot_sequence, event_ids) = match finish {
            JournalFinish::Remove => {
                let removed = atomic_fs::remove(&self.journal_path, durability);
                return self.journal_write_result(writer, removed);
            }
            JournalFinish::Checkpoint { snapshot_sequence, event_ids } => {
                (snapshot_sequence, event_ids)
            }
        };
        let marker = JournalEntry::Checkpoint {
            snapshot_sequence,
            event_ids: event_ids.clone(),
            file_fingerprint: Some(written.fingerprint()),
        };
        let marker_sequence =
            plan.retained.first().map_or(snapshot_sequence, |first| first.sequence - 1);
        let mut bytes = log::encode_record(marker_sequence, &marker.to_json())
            .expect("compact JSON never holds a raw newline");
        for record in &plan.retained {
            bytes.extend(
                log::encode_record(record.sequence, &record.payload).expect("read as one line"),
            );
        }
        let config = ReplaceConfig { durability, backup: Backup::None };
        let replaced = atomic_fs::replace_locked(&self.journal_path, &bytes, &config, file_lock);
        let next_sequence =
            plan.retained.last().map_or(snapshot_sequence, |last| last.sequence) + 1;
        let index = |replaced: atomic_fs::Replaced| JournalIndex {
            identity: replaced.identity,
            _file: replaced.file,
            appender: None,
            file_fingerprint: Some(written.fingerprint()),
            next_sequence,
            event_ids: event_ids.into_iter().collect(),
            pending: 0,
            oldest_pending: None,
            clean: true,
            dir_synced: durability == atomic_fs::Durability::Full,
        };
        match replaced {
            Ok(replaced) => {
                // Everything through the fresh journal's last entry is acknowledged.
                let _ = file_lock.write_note(&acknowledged_note(next_sequence - 1));
                writer.journal = Some(index(replaced));
                self.counters.checkpointed();
                Ok(())
            }
            Err(err) => self.journal_write_result(writer, Err(err)),
        }
    }

    fn journal_write_result(
        &self,
        writer: &mut Writer,
        result: Result<(), atomic_fs::Error>,
    ) -> Result<(), StoreError> {
        match result {
            Ok(()) => Ok(()),
            Err(err) if err.is_sync_failure() => writer.guard_write(&self.path, Err(err)),
            Err(err) => {
                self.counters.checkpoint_failed();
                tracing::warn!(path = %self.journal_path.display(), "could not replace the folded journal (its entries are in the file, so it is harmless): {err}");
                Ok(())
            }
        }
    }
}

/// What a writer keeps in the lock file: the last journal sequence number acknowledged. One
/// fixed length (the number in 20 digits), so a note never leaves part of a longer one.
fn acknowledged_note(sequence: u64) -> Vec<u8> {
    format!("{ACKNOWLEDGED}{sequence:020}\n").into_bytes()
}

const ACKNOWLEDGED: &str = "agent-metrics journal acknowledged through ";

fn parse_acknowledged_note(note: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(note).ok()?;
    let digits = text.strip_prefix(ACKNOWLEDGED)?.get(..20)?;
    digits.parse().ok()
}

/// The problem a reader reports for acknowledged event ids found nowhere.
fn lost_message(lost: &[String]) -> String {
    format!(
        "{} acknowledged event(s) named by the journal's checkpoint are in neither the file, the journal nor the backup (a write of an older state dropped them): {}",
        lost.len(),
        lost.join(", ")
    )
}

/// What a whole-file write does to the journal once the file is committed.
#[derive(Debug)]
pub(crate) enum JournalFinish {
    /// Whole-file mode: remove a journal left over.
    Remove,
    /// Journal mode: replace it by a fresh one, starting with this checkpoint's marker (the
    /// committed file's watermark and the event ids it knows) and the entries just folded.
    Checkpoint {
        /// The committed file's watermark.
        snapshot_sequence: u64,
        /// Every event id the committed file knows.
        event_ids: Vec<String>,
    },
}

impl JournalFinish {
    /// What to do after committing `state`.
    pub(crate) fn after(state: &DashboardState) -> JournalFinish {
        if state.storage().mode == StorageMode::Journal {
            JournalFinish::Checkpoint {
                snapshot_sequence: state.storage().journal_sequence,
                event_ids: state.known_event_ids(),
            }
        } else {
            JournalFinish::Remove
        }
    }
}

/// What a whole-file write must do to the journal once the file is committed.
#[derive(Debug)]
pub(crate) struct JournalPlan {
    /// The entries folded by this write, kept one more generation in the fresh journal.
    retained: Vec<JournalRecord>,
    /// The journal needs folding, repairing, creating or removing: the write must happen
    /// even if the change itself changed nothing.
    pub(crate) needs_write: bool,
    /// There is a journal: a write must replace it (journal mode) or remove it.
    pub(crate) exists: bool,
}
