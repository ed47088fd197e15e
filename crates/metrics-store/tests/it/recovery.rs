//! The recovery matrix: each damaged or missing combination of file and backup, what was
//! restored, what was set aside, and that nothing readable was lost.

use std::path::{Path, PathBuf};

use metrics_store::{Durability, MetricsStore, RecoveryAction, RestoreFrom, StoreError};
use metrics_types::Limits;

use crate::support::{event, names, plant, scratch, store};

/// A store with two generations written: backup holds `e0`, the file holds `e0, e1`.
fn two_generations() -> (tempfile::TempDir, PathBuf, MetricsStore) {
    let (dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = store.record_event(event("e0", "a")).unwrap();
    let _ = store.record_event(event("e1", "a")).unwrap();
    (dir, path, store)
}

fn event_ids(store: &MetricsStore) -> Vec<String> {
    store.load().unwrap().state.events().iter().map(|e| e.event_id().to_owned()).collect()
}

fn aside_files(dir: &Path) -> Vec<String> {
    names(dir).into_iter().filter(|name| name.contains(".corrupt-")).collect()
}

/// Damages the file with `bytes`; a read through a new handle shows the backup and changes
/// nothing; a recovery (what a write runs first) restores the backup and keeps the damaged
/// bytes aside.
fn check_restored(bytes: &[u8], expect_problem: &str) {
    let (dir, path, _writer) = two_generations();
    plant(&path, bytes);
    let reader = MetricsStore::open(&path).unwrap();
    let listing = names(dir.path());
    let loaded = reader.load().unwrap();
    let fallback = loaded.fallback.expect("the read says it shows the backup");
    assert!(fallback.problem.contains(expect_problem), "{}", fallback.problem);
    assert!(fallback.to_string().contains("run `agent-metrics recover`"), "{fallback}");
    assert!(loaded.state.contains_event("e0") && !loaded.state.contains_event("e1"));
    assert_eq!(names(dir.path()), listing, "a read writes nothing");
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "a read writes nothing");

    let recovery = reader.recover().unwrap().expect("a recovery is reported");
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert!(recovery.problem.contains(expect_problem), "{}", recovery.problem);
    assert_eq!(event_ids(&reader), ["e0"], "the previous generation is back");
    let aside = aside_files(dir.path());
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(dir.path().join(&aside[0])).unwrap(),
        bytes,
        "the damaged bytes are kept"
    );
    assert_eq!(recovery.set_aside, [dir.path().join(&aside[0])]);
    assert!(recovery.to_string().contains("the file it replaced is kept as"), "{recovery}");
    assert_eq!(reader.stats().recoveries, 1);
    assert!(reader.load().unwrap().fallback.is_none(), "recovered once, then sound");
    assert!(reader.recover().unwrap().is_none(), "nothing more to recover");
}

#[test]
fn main_corrupt_backup_good() {
    check_restored(b"{\"version\": 1, \"events\": [oops", "not a valid agent-metrics document");
}

#[test]
fn main_truncated() {
    let (_dir, path, _writer) = two_generations();
    let whole = std::fs::read(&path).unwrap();
    check_restored(&whole[..whole.len() / 2], "truncated");
}

#[test]
fn main_valid_json_but_not_what_python_loads() {
    check_restored(br#"{"version": 1, "events": [{"event_id": "x"}]}"#, "missing top-level key");
    check_restored(b"{}", "missing top-level key(s): version, project_name");
    check_restored(br#"{"foo": 1}"#, "missing top-level key");
    check_restored(b"[1, 2, 3]", "not a JSON object");
}

#[test]
fn inconsistent_files_are_findings_never_set_aside() {
    let (dir, path, _writer) = two_generations();
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["agents"]["a"]["failed_invocations"] = serde_json::json!(5);
    doc["total_tokens"] = serde_json::json!(-5);
    doc["events"][0].as_object_mut().unwrap().remove("ended_at");
    plant(&path, &serde_json::to_vec(&doc).unwrap());
    let store = MetricsStore::open(&path).unwrap();
    let loaded = store.load().unwrap();
    assert!(loaded.fallback.is_none(), "loads as it is");
    assert_eq!(event_ids(&store), ["e0", "e1"]);
    assert!(!store.check().is_sound(), "check lists the findings");
    let _ = store.record_event(event("e2", "b")).unwrap();
    assert!(aside_files(dir.path()).is_empty(), "nothing set aside");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(written["agents"]["a"], doc["agents"]["a"], "an untouched profile is kept");
    assert_eq!(written["events"][0], doc["events"][0], "an untouched event is kept");
    // The totals the write added to are rewritten (here the event's tokens made the
    // negative total positive); a write never adds a finding.
    assert_eq!(written["total_tokens"], serde_json::json!(-5 + 120));
}

#[test]
fn main_empty() {
    check_restored(b"", "the file is empty");
}

#[test]
fn main_holding_nan() {
    check_restored(
        br#"{"version": 1, "total_cost_usd": NaN}"#,
        "not a valid agent-metrics document",
    );
}

#[test]
fn main_missing_backup_present() {
    let (dir, path, _writer) = two_generations();
    std::fs::remove_file(&path).unwrap();
    let reader = MetricsStore::open(&path).unwrap();
    let fallback = reader.load().unwrap().fallback.unwrap();
    assert_eq!(fallback.problem, "the file is missing");
    assert!(!path.exists(), "a read restores nothing");
    let recovery = reader.recover().unwrap().unwrap();
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert_eq!(recovery.problem, "the file is missing");
    assert!(recovery.set_aside.is_empty());
    assert_eq!(event_ids(&reader), ["e0"]);
    assert!(aside_files(dir.path()).is_empty());
}

#[test]
fn both_corrupt_starts_fresh_and_keeps_both() {
    let (dir, path, _writer) = two_generations();
    plant(&path, b"garbage main");
    plant(&atomic_fs::backup_path(&path), b"garbage backup");
    let reader = MetricsStore::open(&path).unwrap();
    let err = reader.load().unwrap_err();
    assert!(matches!(err, StoreError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert!(aside_files(dir.path()).is_empty(), "a read sets nothing aside");
    let recovery = reader.recover().unwrap().unwrap();
    assert!(matches!(recovery.action, RecoveryAction::StartedFresh { .. }), "{recovery:?}");
    assert!(recovery.to_string().starts_with("started"), "{recovery}");
    assert!(event_ids(&reader).is_empty());
    let mut kept: Vec<Vec<u8>> = aside_files(dir.path())
        .iter()
        .map(|name| std::fs::read(dir.path().join(name)).unwrap())
        .collect();
    kept.sort();
    assert_eq!(kept, [b"garbage backup".to_vec(), b"garbage main".to_vec()]);
    // The next update works and does not disturb what was kept.
    let _ = reader.record_event(event("e2", "a")).unwrap();
    assert_eq!(event_ids(&reader), ["e2"]);
    assert_eq!(aside_files(dir.path()).len(), 2);
}

#[test]
fn recovery_on_update() {
    let (dir, path, _writer) = two_generations();
    plant(&path, b"{");
    let writer = MetricsStore::open(&path).unwrap();
    let _ = writer.record_event(event("e9", "a")).unwrap();
    assert_eq!(
        event_ids(&writer),
        ["e0", "e9"],
        "the update applied on top of the restored backup"
    );
    let recovery = writer.take_recovery().expect("the update's recovery is kept");
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert_eq!(aside_files(dir.path()).len(), 1);
}

#[test]
fn newer_version_is_read_but_never_rewritten() {
    let (_dir, path) = scratch();
    let newer = br#"{"version": 2, "project_name": "future", "created_at": null, "updated_at": null, "total_sessions": 0, "total_tokens": 0, "total_cost_usd": 0.0, "total_duration_seconds": 0.0, "agents": {}, "events": [], "sessions": [], "shards": 4}"#;
    plant(&path, newer);
    let store = MetricsStore::open(&path).unwrap();
    let loaded = store.load().unwrap();
    assert_eq!(loaded.state.project_name(), "future");
    match store.record_event(event("e0", "a")) {
        Err(err @ StoreError::NewerFormat { found: 2, supported: 1, .. }) => {
            assert!(err.to_string().contains("upgrade agent-metrics"), "{err}");
        }
        other => panic!("expected NewerFormat, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), newer, "untouched");
    // A newer file we cannot even parse is not mistaken for damage.
    let unparseable = br#"{"version": 3, "events": {"sharded": true}}"#;
    plant(&path, unparseable);
    assert!(matches!(store.load(), Err(StoreError::NewerFormat { found: 3, .. })));
    assert_eq!(std::fs::read(&path).unwrap(), unparseable, "untouched");
}

#[test]
fn restoring_the_backup_over_a_sound_file_needs_force() {
    let (dir, path, store) = two_generations();
    let before = std::fs::read(&path).unwrap();
    match store.restore(&RestoreFrom::Backup, false) {
        Err(err @ StoreError::RestoreWouldDiscard { .. }) => {
            assert!(
                err.to_string().contains("1 event(s) and 0 session(s) not in the backup"),
                "{err}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");
    let recovery = store.restore(&RestoreFrom::Backup, true).unwrap();
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert_eq!(event_ids(&store), ["e0"]);
    let replaced: Vec<String> =
        names(dir.path()).into_iter().filter(|name| name.contains(".replaced-")).collect();
    assert_eq!(replaced.len(), 1, "the sound file is kept aside");
    assert_eq!(std::fs::read(dir.path().join(&replaced[0])).unwrap(), before);
    plant(&atomic_fs::backup_path(&path), b"bad");
    let before = std::fs::read(&path).unwrap();
    let refused = store.restore(&RestoreFrom::Backup, true);
    assert!(matches!(refused, Err(StoreError::NoUsableBackup { .. })), "{refused:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");
}

#[test]
fn restoring_a_chosen_file_keeps_the_current_one_aside() {
    let (dir, path, store) = two_generations();
    let chosen = dir.path().join("chosen.json");
    std::fs::copy(&path, &chosen).unwrap();
    let _ = store.record_event(event("e2", "a")).unwrap();
    let recovery = store.restore(&RestoreFrom::File(chosen.clone()), false).unwrap();
    assert_eq!(recovery.action, RecoveryAction::RestoredFromFile { source: chosen });
    assert_eq!(event_ids(&store), ["e0", "e1"]);
    let garbage = dir.path().join("garbage.json");
    plant(&garbage, b"{\"version\": 1}");
    let refused = store.restore(&RestoreFrom::File(garbage), false);
    assert!(matches!(refused, Err(StoreError::NoUsableBackup { .. })), "{refused:?}");
}

#[test]
fn temporary_files_of_a_killed_python_writer_are_swept_under_the_lock() {
    // The Python dashboard writes through `mkstemp(prefix=".agent_metrics_", suffix=".tmp")`
    // (and `.agent_metrics_bak_*.tmp` for its backup) under the same lock; one it was killed
    // while writing is as stale as ours once we hold the lock.
    let (dir, path, store) = two_generations();
    for name in [".agent_metrics_k2j4x9.tmp", ".agent_metrics_bak_0q1w2e.tmp"] {
        plant(&dir.path().join(name), b"{\"half\": ");
    }
    plant(&dir.path().join("agent_metrics_notes.tmp"), b"not ours");
    let _ = store.record_event(event("e2", "a")).unwrap();
    let left: Vec<String> =
        names(dir.path()).into_iter().filter(|name| name.ends_with(".tmp")).collect();
    assert_eq!(left, ["agent_metrics_notes.tmp"], "only the Python store's temporary files go");
    assert!(path.exists());
}
