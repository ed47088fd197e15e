//! Two real processes contending one lock: timeouts, release on exit, release on SIGKILL.

use std::time::{Duration, Instant};

use atomic_fs::{Error, FileLock};

use crate::child::spawn;

fn check_timeout(lock: &std::path::Path) {
    assert!(FileLock::try_lock(lock).unwrap().is_none(), "the child holds the lock");
    match FileLock::lock(lock, Duration::from_millis(200)) {
        Err(Error::LockTimeout { path, waited }) => {
            assert_eq!(path, lock);
            assert!(waited >= Duration::from_millis(200), "{waited:?}");
        }
        other => panic!("expected a lock timeout, got {other:?}"),
    }
}

#[test]
fn lock_is_released_when_the_holder_exits() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("data.lock");
    let mut child = spawn("hold-lock", &[lock.to_str().unwrap(), "600"]);
    check_timeout(&lock);
    let started = Instant::now();
    let guard = FileLock::lock(&lock, Duration::from_secs(10)).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(guard);
}

#[test]
fn lock_is_released_when_the_holder_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("data.lock");
    let mut child = spawn("hold-lock", &[lock.to_str().unwrap(), "600000"]);
    check_timeout(&lock);
    child.kill().unwrap(); // SIGKILL: no destructor runs in the child.
    child.wait().unwrap();
    let started = Instant::now();
    let guard = FileLock::lock(&lock, Duration::from_secs(2)).unwrap();
    assert!(started.elapsed() < Duration::from_millis(500), "took {:?}", started.elapsed());
    assert!(lock.exists(), "nobody deleted or broke the lock file");
    drop(guard);
}

#[test]
fn children_do_not_inherit_a_held_lock() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("data.lock");
    let guard = FileLock::lock(&lock, Duration::from_secs(1)).unwrap();
    // A long-lived child started while we hold the lock.
    let mut sleeper = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    drop(guard);
    let retaken = FileLock::try_lock(&lock).unwrap();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert!(retaken.is_some(), "the child kept the lock: the descriptor was inherited");
}
