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
