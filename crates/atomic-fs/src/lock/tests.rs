//! Unit tests of `FileLock` within one process: timeouts, release on panic, a deleted lock file.

use std::time::Duration;

use super::FileLock;
use crate::Error;

#[test]
fn a_second_lock_in_the_same_process_times_out_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let _held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    match FileLock::lock(&path, Duration::from_millis(50)) {
        Err(Error::LockTimeout { path: reported, waited }) => {
            assert_eq!(reported, path);
            assert!(waited >= Duration::from_millis(50));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let message = FileLock::lock(&path, Duration::ZERO).unwrap_err().to_string();
    assert!(message.contains("data.lock") && message.contains("timed out"), "{message}");
}

#[test]
fn dropping_the_guard_releases_even_on_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let thread_path = path.clone();
    let result = std::thread::spawn(move || {
        let _held = FileLock::lock(&thread_path, Duration::from_secs(1)).unwrap();
        panic!("the update failed");
    })
    .join();
    assert!(result.is_err());
    assert!(FileLock::try_lock(&path).unwrap().is_some());
}

#[test]
fn a_deleted_lock_file_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    // Someone deletes the lock file while it is held: a new lock takes a new file, and the
    // holder's guard still releases cleanly.
    std::fs::remove_file(&path).unwrap();
    let second = FileLock::try_lock(&path).unwrap();
    assert!(second.is_some());
    drop(held);
    assert!(path.exists(), "the lock file is never deleted by this crate");
}

#[test]
fn missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing/data.lock");
    let message = FileLock::lock(&path, Duration::from_millis(10)).unwrap_err().to_string();
    assert!(
        message.contains("cannot open lock file") && message.contains("does the directory exist?"),
        "{message}"
    );
}

#[test]
fn a_waiter_granted_a_deleted_lock_file_waits_again_on_the_new_one() {
    // The waiter blocks in the kernel's queue on the first lock file; while it waits the file
    // is deleted and a newcomer locks the file the path names now. When the first holder
    // releases, the waiter is granted a lock that excludes nobody: it must notice, and wait
    // for the newcomer instead of running beside it (issue 13).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let first = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    let granted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waiter = std::thread::spawn({
        let (path, granted) = (path.clone(), granted.clone());
        move || {
            let lock = FileLock::lock(&path, Duration::from_secs(20)).unwrap();
            granted.store(true, std::sync::atomic::Ordering::SeqCst);
            lock
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    std::fs::remove_file(&path).unwrap();
    let newcomer = FileLock::try_lock(&path).unwrap().expect("the new lock file is free");
    drop(first);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !granted.load(std::sync::atomic::Ordering::SeqCst),
        "the waiter took a deleted lock file while the newcomer held the real one"
    );
    drop(newcomer);
    let lock = waiter.join().unwrap();
    assert!(lock.is_still_at_path().unwrap());
}

#[test]
fn a_holder_whose_lock_file_is_deleted_can_tell() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    assert!(held.is_still_at_path().unwrap());
    std::fs::remove_file(&path).unwrap();
    assert!(!held.is_still_at_path().unwrap(), "deleted");
    let _newcomer = FileLock::try_lock(&path).unwrap().unwrap();
    assert!(!held.is_still_at_path().unwrap(), "replaced by a new file");
}

#[test]
fn a_waiter_that_times_out_releases_a_late_grant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    let timed_out = FileLock::lock(&path, Duration::from_millis(50));
    assert!(matches!(timed_out, Err(Error::LockTimeout { .. })), "{timed_out:?}");
    drop(held);
    // The abandoned helper is granted the lock now and must let it go at once.
    let again = FileLock::lock(&path, Duration::from_secs(2));
    assert!(again.is_ok(), "{again:?}");
}

#[test]
fn looking_at_the_lock_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    assert!(FileLock::is_free(&path).unwrap());
    assert!(!path.exists(), "is_free must not create the lock file");
    let held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    assert!(!FileLock::is_free(&path).unwrap());
    drop(held);
    assert!(FileLock::is_free(&path).unwrap());
}

/// Threads of this process named as lock-wait helpers.
fn helper_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            std::fs::read_to_string(comm).is_ok_and(|name| name.starts_with("atomic-fs-lock"))
        })
        .count()
}

#[test]
fn a_thousand_timed_out_waits_on_a_held_lock_leave_at_most_one_helper_per_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("one.lock"), dir.path().join("two.lock"));
    let held_first = FileLock::lock(&first, Duration::from_secs(1)).unwrap();
    let held_second = FileLock::lock(&second, Duration::from_secs(1)).unwrap();
    let before = helper_threads();
    for i in 0..1000 {
        let path = if i % 2 == 0 { &first } else { &second };
        let waited = FileLock::lock(path, Duration::from_micros(200));
        assert!(matches!(waited, Err(Error::LockTimeout { .. })), "{waited:?}");
    }
    let after = helper_threads();
    // Other tests of this binary may start helpers meanwhile; one per wait would be 1,000.
    assert!(after <= before + 10, "{before} helper threads before, {after} after");
    // The one blocked helper per file still hands a late grant to the next waiter.
    drop(held_first);
    let granted = FileLock::lock(&first, Duration::from_secs(2));
    assert!(granted.is_ok(), "{granted:?}");
    drop(held_second);
    assert!(FileLock::lock(&second, Duration::from_secs(2)).is_ok());
}

#[test]
fn waiters_queued_behind_one_helper_are_each_granted_in_turn() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.lock");
    let held = FileLock::lock(&path, Duration::from_secs(1)).unwrap();
    let granted = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                let guard = FileLock::lock(&path, Duration::from_secs(10)).unwrap();
                granted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                drop(guard);
            });
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(granted.load(std::sync::atomic::Ordering::SeqCst), 0, "the lock is held");
        drop(held);
    });
    assert_eq!(granted.into_inner(), 8);
}
