//! Bad input and faults: each gives a typed error (or a recovery), never a panic, and never
//! loses data.

use std::time::Duration;

use atomic_fs::FileLock;
use metrics_store::{Durability, MetricsStore, StoreError};
use metrics_types::{AgentEvent, EventStatus, Limits, NewAgentEvent};

use crate::support::{at, event, names, plant, scratch, store};

#[test]
fn a_directory_where_the_file_should_be() {
    let (_dir, path) = scratch();
    std::fs::create_dir(&path).unwrap();
    let store = MetricsStore::open(&path).unwrap();
    let err = store.load().unwrap_err();
    assert!(err.to_string().contains("is a directory"), "{err}");
    assert!(matches!(store.record_event(event("e", "a")), Err(StoreError::Io { .. })));
    assert!(path.is_dir());
}

#[test]
fn a_huge_file_is_refused_not_read() {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = store.record_event(event("e", "a")).unwrap();
    let small = MetricsStore::builder(&path).max_file_size(64).open().unwrap();
    let err = small.load().unwrap_err();
    assert!(matches!(err, StoreError::Unreadable { .. }), "a read treats it as damage: {err:?}");
    assert!(err.to_string().contains("more than the limit of 64"), "{err}");
    // A write refuses rather than keep aside a file that may be perfectly sound.
    assert!(matches!(small.record_event(event("f", "a")), Err(StoreError::Io { .. })));
    assert_eq!(store.load().unwrap().state.events().len(), 1, "nothing was set aside or lost");
}

#[test]
fn deep_nesting_is_damage_not_a_crash() {
    let (_dir, path) = scratch();
    let deep = format!(
        "{{\"version\": 1, \"project_name\": \"p\", \"agents\": {}{}}}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    plant(&path, deep.as_bytes());
    let store = MetricsStore::open(&path).unwrap();
    assert!(matches!(store.load(), Err(StoreError::Unreadable { .. })), "a read changes nothing");
    assert!(store.recover().unwrap().is_some(), "a write's recovery keeps it aside");
}

#[test]
fn lock_timeout_changes_nothing() {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = store.record_event(event("e0", "a")).unwrap();
    let before = std::fs::read(&path).unwrap();
    assert!(store.lock_is_free().unwrap());
    let held = FileLock::lock(store.lock_path(), Duration::from_secs(1)).unwrap();
    assert!(!store.lock_is_free().unwrap());
    let err = store
        .with_lock_timeout(Duration::from_millis(100))
        .record_event(event("e1", "a"))
        .unwrap_err();
    match &err {
        StoreError::LockTimeout { path: reported, waited } => {
            assert_eq!(reported, &path);
            assert!(*waited >= Duration::from_millis(100));
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
    assert!(err.to_string().contains("raise the lock timeout"), "{err}");
    assert_eq!(store.stats().lock_timeouts, 1);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(store.load().unwrap().state.events().len(), 1, "reads need no lock");
    drop(held);
    let _ = store.record_event(event("e1", "a")).unwrap();
}

#[test]
fn a_rejected_update_writes_nothing() {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = store.record_event(event("e0", "a")).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = store
        .update(|state| {
            let _ = state.record_event(event("e1", "a"), &Limits::DEFAULT);
            Err::<(), _>("the harness changed its mind")
        })
        .unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err}");
    assert!(err.to_string().contains("the harness changed its mind"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(
        store.load().unwrap().state.events().len(),
        1,
        "the cached state was not left half-changed"
    );
    let _ = store.record_event(event("e2", "a")).unwrap();
    assert_eq!(store.load().unwrap().state.events().len(), 2);
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let (dir, _) = scratch();
    let path = dir.path().join("nope/.agent_metrics.json");
    let store = MetricsStore::open(&path).unwrap();
    assert!(
        store.load().unwrap().state.events().is_empty(),
        "reading a store that does not exist is empty"
    );
    let err = store.record_event(event("e", "a")).unwrap_err();
    assert!(err.to_string().contains("does the directory exist?"), "{err}");
}

#[test]
fn opening_touches_nothing() {
    let (dir, path) = scratch();
    let store = MetricsStore::open(&path).unwrap();
    let _ = store.load().unwrap();
    let _ = store.check();
    assert!(names(dir.path()).is_empty());
}

#[test]
fn duplicates_are_not_written() {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = store.record_event(event("e0", "a")).unwrap();
    let writes = store.stats().writes;
    assert_eq!(
        store.record_event(event("e0", "a")).unwrap(),
        metrics_types::RecordOutcome::Duplicate
    );
    assert_eq!(store.stats().writes, writes);
}

#[test]
fn create_refuses_to_clobber() {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::Full);
    store.create().unwrap();
    assert!(matches!(store.create(), Err(StoreError::AlreadyExists { .. })));
    assert_eq!(store.load().unwrap().state.project_name(), "test");
}

#[test]
fn bad_configuration_is_refused() {
    let (_dir, path) = scratch();
    let err = MetricsStore::builder(&path)
        .limits(Limits { max_events: 0, max_sessions: 1 })
        .open()
        .unwrap_err();
    assert!(matches!(err, StoreError::Config { .. }), "{err}");
}

#[test]
fn a_write_past_the_write_limit_is_refused_and_changes_nothing() {
    // Issue 12: the write limit is half the read limit, checked before anything is written,
    // so every acknowledged write can be read back (even after the Python dashboard's
    // indented rewrite).
    let (dir, path) = scratch();
    let store = MetricsStore::builder(&path)
        .max_file_size(16 * 1024)
        .durability(Durability::NoSyncTestsOnly)
        .open()
        .unwrap();
    let mut recorded = 0;
    let err = loop {
        match store.record_event(event(&format!("e{recorded}"), "a")) {
            Ok(_) => recorded += 1,
            Err(err) => break err,
        }
        assert!(recorded < 1000, "the limit was never reached");
    };
    assert!(matches!(err, StoreError::TooLarge { limit: 8192, .. }), "{err:?}");
    let listing = names(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() <= 8 * 1024);
    assert!(store.record_event(event("again", "a")).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "nothing changed");
    assert_eq!(names(dir.path()), listing);
    assert_eq!(store.load().unwrap().state.events().len(), recorded, "all acknowledged, readable");
}

#[test]
fn long_tracebacks_are_recorded_truncated_and_the_store_stays_readable() {
    // Issue 12: 480 error events with 145 KB tracebacks once made a 71.6 MB file that no
    // command could read. Free text is cut with a visible marker; the events are recorded.
    let (_dir, path) = scratch();
    let store =
        MetricsStore::builder(&path).durability(Durability::NoSyncTestsOnly).open().unwrap();
    let traceback = "Traceback (most recent call last):\n  File \"agent.py\"\n".repeat(2800);
    assert!(traceback.len() > 145_000);
    let events: Vec<AgentEvent> = (0..480)
        .map(|idx| {
            AgentEvent::new(NewAgentEvent {
                error_message: traceback.clone(),
                ..NewAgentEvent::new(&format!("err-{idx}"), "a", EventStatus::Error, at(0))
            })
            .unwrap()
        })
        .collect();
    let outcome = store.record_events(events).unwrap();
    assert_eq!(outcome.recorded, 480);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 5 * 1024 * 1024, "{size} bytes");
    let state = store.load().unwrap().state;
    let message = state.events()[0].error_message();
    assert!(message.len() <= metrics_types::MAX_ERROR_MESSAGE_BYTES);
    assert!(
        message.ends_with(&metrics_types::truncation_marker(traceback.len())),
        "{}",
        &message[message.len() - 60..]
    );
}

#[test]
fn a_symlinked_store_writes_beside_the_real_file_and_keeps_the_link() {
    let (dir, _) = scratch();
    let real_dir = dir.path().join("dotfiles");
    std::fs::create_dir(&real_dir).unwrap();
    let real = real_dir.join("metrics.json");
    let link = dir.path().join(".agent_metrics.json");
    let created = MetricsStore::builder(&real).durability(Durability::NoSyncTestsOnly).open();
    created.unwrap().create().unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let store =
        MetricsStore::builder(&link).durability(Durability::NoSyncTestsOnly).open().unwrap();
    assert_eq!(store.path(), real, "resolved once, at open");
    let _ = store.record_event(event("e1", "a")).unwrap();
    let _ = store.record_event(event("e2", "a")).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "still a link");
    assert!(real_dir.join("metrics.lock").exists() && real_dir.join("metrics.json.bak").exists());
    let through_link = MetricsStore::open(&link).unwrap().load().unwrap().state;
    assert_eq!(through_link.events().len(), 2);
}
