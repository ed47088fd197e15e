//! The recovery matrix: each damaged or missing combination of file and backup, what was
//! restored, what was set aside, and that nothing readable was lost.

use std::path::{Path, PathBuf};

use metrics_store::{Durability, MetricsStore, RecoveryAction, StoreError};
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

/// Damages the file with `bytes`, loads through a new handle, and checks the backup was
/// restored and the damaged bytes kept aside.
fn check_restored(bytes: &[u8], expect_problem: &str) {
    let (dir, path, _writer) = two_generations();
    plant(&path, bytes);
    let reader = MetricsStore::open(&path).unwrap();
    let loaded = reader.load().unwrap();
    let recovery = loaded.recovery.expect("a recovery is reported");
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
    assert!(reader.load().unwrap().recovery.is_none(), "recovered once, then sound");
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
fn main_valid_json_wrong_schema() {
    check_restored(br#"{"version": 1, "events": [{"event_id": "x"}]}"#, "events[0]");
    check_restored(br#"{"version": 1, "total_tokens": -5}"#, "total_tokens: must not be negative");
    check_restored(b"[1, 2, 3]", "not a valid agent-metrics document");
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
    let recovery = reader.load().unwrap().recovery.unwrap();
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
    let recovery = reader.load().unwrap().recovery.unwrap();
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
    let newer = br#"{"version": 2, "project_name": "future", "agents": {}, "events": [], "sessions": [], "shards": 4}"#;
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
fn explicit_restore_sets_the_current_file_aside() {
    let (dir, path, store) = two_generations();
    let recovery = store.restore_from_backup().unwrap();
    assert_eq!(recovery.action, RecoveryAction::RestoredFromBackup);
    assert_eq!(event_ids(&store), ["e0"]);
    assert_eq!(aside_files(dir.path()).len(), 1);
    plant(&atomic_fs::backup_path(&path), b"bad");
    let before = std::fs::read(&path).unwrap();
    assert!(matches!(store.restore_from_backup(), Err(StoreError::NoUsableBackup { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before, "nothing changed");
}
