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
