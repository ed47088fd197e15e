//! Journal mode through the public API: appends, checkpoints, readers, repairs, the mode
//! switch, and a foreign rewrite of the file between checkpoints.
#![expect(clippy::disallowed_methods, reason = "tests read and damage the files directly")]

use std::path::Path;
use std::time::Duration;

use metrics_store::{CheckpointPolicy, Durability, MetricsStore, RecoveryAction};
use metrics_types::{DashboardState, Limits, RecordOutcome, STORAGE_KEY, StorageMode};

use crate::support::{event, names, scratch, session};

const NEVER: Duration = Duration::from_secs(3600);

fn journal_store(path: &Path, max_entries: usize) -> MetricsStore {
    let store = MetricsStore::builder(path)
        .project_name("test")
        .durability(Durability::NoSyncTestsOnly)
        .checkpoint_policy(CheckpointPolicy { max_entries, max_age: NEVER })
        .open()
        .unwrap();
    store.set_storage_mode(StorageMode::Journal).unwrap();
    store
}

fn file_state(path: &Path) -> DashboardState {
    DashboardState::load(&std::fs::read(path).unwrap()).unwrap()
}

fn ids(state: &DashboardState) -> Vec<&str> {
    state.events().iter().map(|event| event.event_id()).collect()
}

fn journal_lines(store: &MetricsStore) -> Vec<String> {
    std::fs::read_to_string(store.journal_path()).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn turning_the_journal_on_marks_the_file_and_starts_a_journal_with_a_marker() {
    let (dir, path) = scratch();
    let store = journal_store(&path, 64);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json[STORAGE_KEY], serde_json::json!({"mode": "journal", "journal_sequence": 0}));
    assert_eq!(store.journal_path(), dir.path().join(".agent_metrics.journal"));
    let lines = journal_lines(&store);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("0 ") && lines[0].contains("checkpoint"), "{lines:?}");
}

#[test]
fn an_append_writes_only_the_journal_and_every_reader_sees_it() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let file_before = std::fs::read(&path).unwrap();
    let writes = store.stats().writes;

    assert_eq!(
        store.record_event(event("e1", "coding")).unwrap(),
        RecordOutcome::Recorded { evicted: 0 }
    );
    assert_eq!(store.record_event(event("e1", "coding")).unwrap(), RecordOutcome::Duplicate);
    let batch = store
        .record_events(vec![event("e2", "coding"), event("e1", "coding"), event("e2", "x")])
        .unwrap();
    assert_eq!((batch.recorded, batch.duplicates), (1, 2));

    assert_eq!(std::fs::read(&path).unwrap(), file_before, "the file is not rewritten");
    assert_eq!(store.stats().writes, writes);
    assert_eq!(store.stats().journal_appends, 2);
    assert_eq!(journal_lines(&store).len(), 3);

    let other = MetricsStore::open(&path).unwrap();
    let loaded = other.load().unwrap();
    assert_eq!(ids(&loaded.state), ["e1", "e2"]);
    assert_eq!(loaded.state.agents()["coding"].total_invocations(), 2);
    assert_eq!(loaded.journal.as_ref().unwrap().applied, 2);
    assert_eq!(
        other.record_event(event("e2", "coding")).unwrap(),
        RecordOutcome::Duplicate,
        "another handle knows the ids from the journal alone"
    );
}

#[test]
fn the_writer_that_crosses_the_threshold_checkpoints_and_keeps_the_folded_entries_one_generation() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 3);
    for id in ["a", "b"] {
        let _ = store.record_event(event(id, "coding")).unwrap();
    }
    assert!(ids(&file_state(&path)).is_empty(), "below the threshold the file waits");
    let _ = store.record_event(event("c", "coding")).unwrap();
    let file = file_state(&path);
    assert_eq!(ids(&file), ["a", "b", "c"], "the third append checkpointed");
    assert_eq!(file.storage().journal_sequence, 3);
    assert_eq!(store.stats().checkpoints, 2, "one when turned on, one now");
    let lines = journal_lines(&store);
    assert_eq!(lines.len(), 4, "the marker and the three entries just folded: {lines:?}");
    assert!(lines[0].starts_with("0 "), "{lines:?}");

    let _ = store.record_event(event("d", "coding")).unwrap();
    assert!(journal_lines(&store)[4].starts_with("4 "), "sequence numbers go on");
    let loaded = MetricsStore::open(&path).unwrap().load().unwrap();
    assert_eq!(ids(&loaded.state), ["a", "b", "c", "d"]);
    assert_eq!(loaded.journal.unwrap().applied, 1, "entries at or below the watermark are skipped");
}

#[test]
fn a_checkpoint_folds_everything_and_a_second_one_writes_nothing() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_events(vec![event("a", "coding"), event("b", "review")]).unwrap();
    let _ = store.record_event(event("c", "coding")).unwrap();
    assert_eq!(store.checkpoint().unwrap(), 2);
    assert_eq!(ids(&file_state(&path)), ["a", "b", "c"]);
    let writes = store.stats().writes;
    assert_eq!(store.checkpoint().unwrap(), 0);
    assert_eq!(store.stats().writes, writes, "nothing to fold, nothing written");
}

#[test]
fn a_whole_file_update_in_journal_mode_sees_the_journal_and_folds_it() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("a", "coding")).unwrap();
    let seen =
        store.update(|state| Ok::<_, std::convert::Infallible>(state.events().len())).unwrap();
    assert_eq!(seen, 1, "the change runs on the file plus the journal");
    assert_eq!(ids(&file_state(&path)), ["a"], "and the journal was folded in");
}

#[test]
fn a_session_is_appended_and_built_from_the_file_plus_the_journal() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("a", "coding")).unwrap();
    let writes = store.stats().writes;
    let outcome = store
        .record_session_with(|state| {
            assert_eq!(state.events().len(), 1, "the builder sees the journal's events");
            Ok::<_, std::convert::Infallible>(session("s1"))
        })
        .unwrap();
    assert_eq!(outcome, RecordOutcome::Recorded { evicted: 0 });
    assert_eq!(store.stats().writes, writes, "appended, not a whole-file write");
    assert!(file_state(&path).sessions().is_empty());
    assert_eq!(store.record_session(session("s1")).unwrap(), RecordOutcome::Duplicate);
    let loaded = MetricsStore::open(&path).unwrap().load().unwrap();
    assert_eq!(loaded.state.sessions().len(), 1);
    assert_eq!(loaded.state.total_sessions(), 1);
    let _ = store.checkpoint().unwrap();
    assert_eq!(file_state(&path).sessions().len(), 1);
}

#[test]
fn turning_the_journal_off_folds_it_first_then_removes_it() {
    let (dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("a", "coding")).unwrap();
    store.set_storage_mode(StorageMode::WholeFile).unwrap();
    assert!(!store.journal_path().exists());
    assert_eq!(ids(&file_state(&path)), ["a"]);
    assert_eq!(file_state(&path).storage().mode, StorageMode::WholeFile);
    let _ = store.record_event(event("b", "coding")).unwrap();
    assert_eq!(ids(&file_state(&path)), ["a", "b"], "whole-file writes again");
    assert!(
        !names(dir.path()).iter().any(|name| name.contains("journal")),
        "{:?}",
        names(dir.path())
    );
}

#[test]
fn a_torn_last_entry_is_ignored_by_readers_and_cut_off_by_the_next_writer() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("a", "coding")).unwrap();
    let mut bytes = std::fs::read(store.journal_path()).unwrap();
    bytes.extend_from_slice(b"2 0badc0de {\"events\":{\"at\":\"2026-");
    std::fs::write(store.journal_path(), &bytes).unwrap();

    let reader = MetricsStore::open(&path).unwrap();
    let loaded = reader.load().unwrap();
    assert_eq!(ids(&loaded.state), ["a"]);
    let report = loaded.journal.unwrap();
    assert!(report.torn_tail.is_some() && report.problems.is_empty(), "{report:?}");

    let writer = MetricsStore::open(&path).unwrap();
    let _ = writer.record_event(event("b", "coding")).unwrap();
    let loaded = reader.load().unwrap();
    assert_eq!(ids(&loaded.state), ["a", "b"]);
    assert_eq!(loaded.journal.unwrap().torn_tail, None, "the writer cut the tail off");
}

#[test]
fn a_damaged_entry_before_the_end_is_reported_kept_aside_and_the_rest_is_folded() {
    let (dir, path) = scratch();
    let store = journal_store(&path, 64);
    for id in ["a", "b", "c"] {
        let _ = store.record_event(event(id, "coding")).unwrap();
    }
    let text = std::fs::read_to_string(store.journal_path()).unwrap();
    let damaged = text.replacen("\"b\"", "\"B\"", 1);
    assert_ne!(damaged, text);
    std::fs::write(store.journal_path(), &damaged).unwrap();

    let reader = MetricsStore::open(&path).unwrap();
    let loaded = reader.load().unwrap();
    assert_eq!(ids(&loaded.state), ["a", "c"], "every entry checks itself");
    let report = loaded.journal.unwrap();
    assert_eq!(report.problems.len(), 1, "{report:?}");
    assert!(report.problems[0].contains("checksum"), "{report:?}");
    assert!(
        std::fs::read_to_string(store.journal_path()).unwrap() == damaged,
        "a read never writes"
    );

    let writer = MetricsStore::open(&path).unwrap();
    let _ = writer.record_event(event("d", "coding")).unwrap();
    let recovery = writer.take_recovery().expect("the damage was handled");
    assert_eq!(recovery.action, RecoveryAction::JournalKeptAside);
    let aside = &recovery.set_aside[0];
    assert_eq!(std::fs::read_to_string(aside).unwrap(), damaged, "kept as it was");
    assert!(
        names(dir.path()).iter().any(|name| name.starts_with(".agent_metrics.journal.corrupt-"))
    );
    assert_eq!(ids(&file_state(&path)), ["a", "c"], "the readable entries were folded");
    assert_eq!(ids(&reader.load().unwrap().state), ["a", "c", "d"]);
}

#[test]
fn a_foreign_rewrite_of_the_file_between_checkpoints_loses_nothing() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("ours-1", "coding")).unwrap();
    // What the Python dashboard's save() does under the lock: load the file (without the
    // journal), add its own event, dump the whole dict back, indented.
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let theirs = serde_json::to_value(event("python-1", "github")).unwrap();
    json["events"].as_array_mut().unwrap().push(theirs);
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();

    let _ = store.record_event(event("ours-2", "coding")).unwrap();
    assert_eq!(
        ids(&file_state(&path)),
        ["python-1", "ours-1"],
        "an appender that finds the file rewritten checkpoints before appending"
    );
    let loaded = MetricsStore::open(&path).unwrap().load().unwrap();
    assert_eq!(ids(&loaded.state), ["python-1", "ours-1", "ours-2"]);
    assert_eq!(store.checkpoint().unwrap(), 1);
    assert_eq!(ids(&file_state(&path)), ["python-1", "ours-1", "ours-2"]);
    assert_eq!(file_state(&path).storage().mode, StorageMode::Journal, "the marker survived");
}

#[test]
fn a_reader_falling_back_to_the_backup_still_finds_the_entries_of_the_last_checkpoint() {
    let (_dir, path) = scratch();
    let store = journal_store(&path, 2);
    for id in ["a", "b", "c"] {
        let _ = store.record_event(event(id, "coding")).unwrap();
    }
    // The file holds a and b (checkpointed); c is in the journal. Damage the file.
    std::fs::write(&path, b"{ torn").unwrap();
    let loaded = MetricsStore::open(&path).unwrap().load().unwrap();
    assert!(loaded.fallback.is_some());
    assert_eq!(
        ids(&loaded.state),
        ["a", "b", "c"],
        "the backup is older; the journal kept a and b"
    );
}

#[test]
fn eviction_happens_when_folding_and_the_limits_hold() {
    let (_dir, path) = scratch();
    let store = MetricsStore::builder(&path)
        .limits(Limits { max_events: 2, max_sessions: 5 })
        .durability(Durability::NoSyncTestsOnly)
        .checkpoint_policy(CheckpointPolicy { max_entries: 64, max_age: NEVER })
        .open()
        .unwrap();
    store.set_storage_mode(StorageMode::Journal).unwrap();
    for id in ["a", "b", "c"] {
        let _ = store.record_event(event(id, "coding")).unwrap();
    }
    assert_eq!(ids(&store.load().unwrap().state), ["b", "c"]);
    assert_eq!(
        store.record_event(event("a", "coding")).unwrap(),
        RecordOutcome::Duplicate,
        "a profile remembers it"
    );
    store.checkpoint().unwrap();
    assert_eq!(ids(&file_state(&path)), ["b", "c"]);
    assert_eq!(file_state(&path).agents()["coding"].total_invocations(), 3);
}

#[test]
fn an_append_on_a_damaged_file_recovers_it_before_acknowledging() {
    let (dir, path) = scratch();
    let store = journal_store(&path, 64);
    let _ = store.record_event(event("a", "coding")).unwrap();
    let _ = store.checkpoint().unwrap();
    let _ = store.record_event(event("b", "coding")).unwrap();
    std::fs::write(&path, b"{\"version\": 1, \"events\": [tr").unwrap();

    let writer = MetricsStore::open(&path).unwrap();
    let _ = writer.record_event(event("c", "coding")).unwrap();
    let recovery = writer.take_recovery().expect("the damaged file was found by the appender");
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert!(names(dir.path()).iter().any(|name| name.starts_with(".agent_metrics.json.corrupt-")));
    assert!(file_state(&path).contains_event("a"), "the file loads again");
    let loaded = MetricsStore::open(&path).unwrap().load().unwrap();
    assert!(loaded.fallback.is_none());
    assert_eq!(ids(&loaded.state), ["a", "b", "c"], "nothing acknowledged was lost");
}

/// One lock acquisition per write in either mode (the mode is decided under the lock, once),
/// so `StoreStats::lock_acquisitions` counts writes and a mode switch cannot fall between a
/// probe and the write.
#[test]
fn each_write_takes_the_lock_once_in_either_mode() {
    let (_dir, path) = crate::support::scratch();
    let store = crate::support::store(
        &path,
        metrics_types::Limits::DEFAULT,
        metrics_store::Durability::NoSyncTestsOnly,
    );
    let before = store.stats().lock_acquisitions;
    let _ = store.record_event(crate::support::event("w1", "a")).unwrap();
    let _ = store.record_events(vec![crate::support::event("w2", "a")]).unwrap();
    let _ = store.record_session(crate::support::session("s-w")).unwrap();
    assert_eq!(store.stats().lock_acquisitions - before, 3, "whole-file mode");
    store.set_storage_mode(metrics_types::StorageMode::Journal).unwrap();
    let before = store.stats().lock_acquisitions;
    let _ = store.record_event(crate::support::event("j1", "a")).unwrap();
    let _ = store.record_events(vec![crate::support::event("j2", "a")]).unwrap();
    assert_eq!(store.stats().lock_acquisitions - before, 2, "journal mode");
}
