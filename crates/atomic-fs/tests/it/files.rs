//! Bad input and the file-level contract: permissions, symbolic links, directories, missing
//! directories, size limits, stale temporary files.
#![expect(clippy::disallowed_methods, reason = "fixtures plant victims and stale files directly")]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use atomic_fs::{
    Backup, Durability, Error, FileLock, ReplaceConfig, backup_path, read, remove_stale_temps,
    replace,
};

use crate::child::FULL;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn new_files_are_private_and_existing_permissions_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, b"one", &FULL).unwrap();
    assert_eq!(mode(&target), 0o600);
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    replace(&target, b"two", &FULL).unwrap();
    assert_eq!(mode(&target), 0o644);
    assert_eq!(mode(&backup_path(&target)), 0o644);
}

#[test]
fn the_backup_is_the_previous_generation_without_a_second_copy() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    let first = replace(&target, b"one", &FULL).unwrap();
    assert!(!first.backed_up, "a new file has no previous generation");
    assert!(!backup_path(&target).exists());
    let second = replace(&target, b"two", &FULL).unwrap();
    assert!(second.backed_up);
    let backup = read(&backup_path(&target), 100).unwrap().unwrap();
    assert_eq!(backup.bytes, b"one");
    assert!(
        backup.identity.is_same_file(&first.identity),
        "the backup is the old file itself, by hard link"
    );
    assert_eq!(read(&target, 100).unwrap().unwrap().identity, second.identity);
    assert_eq!(names(dir.path()), ["data.json", "data.json.bak"]);
}

#[test]
fn symbolic_links_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let target = dir.path().join("data.json");
    std::os::unix::fs::symlink(&victim, &target).unwrap();
    assert!(matches!(replace(&target, b"x", &FULL), Err(Error::Symlink { .. })));
    assert!(matches!(read(&target, 100), Err(Error::Symlink { .. })));
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

#[test]
fn a_directory_where_the_file_should_be() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    std::fs::create_dir(&target).unwrap();
    let err = replace(&target, b"x", &FULL).unwrap_err();
    assert!(matches!(err, Error::IsDirectory { .. }), "{err}");
    assert!(err.to_string().ends_with("data.json is a directory, not a file"), "{err}");
    assert!(matches!(read(&target, 100), Err(Error::IsDirectory { .. })));
}

#[test]
fn a_missing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("nope/data.json");
    let err = replace(&target, b"x", &FULL).unwrap_err();
    assert!(err.to_string().contains("does the directory exist?"), "{err}");
    assert!(read(&target, 100).unwrap().is_none(), "reading a missing file is not an error");
}

#[test]
fn files_over_the_limit_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, &[b'x'; 1000], &FULL).unwrap();
    match read(&target, 999) {
        Err(Error::TooLarge { size, limit, .. }) => assert_eq!((size, limit), (1000, 999)),
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert_eq!(read(&target, 1000).unwrap().unwrap().bytes.len(), 1000);
}

#[test]
fn an_unwritable_directory_leaves_everything_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, b"one", &FULL).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o500)).unwrap();
    let result = replace(&target, b"two", &FULL);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    if rustix::process::geteuid().is_root() {
        // Root bypasses directory permissions; the write goes through.
        result.unwrap();
    } else {
        let err = result.unwrap_err();
        assert!(err.to_string().contains("check the permissions"), "{err}");
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        assert_eq!(names(dir.path()), ["data.json"]);
    }
}

#[test]
fn a_read_only_file_system_is_a_clear_error() {
    // /proc/self is not writable by anyone; the kernel reports it as a permission or
    // read-only error depending on the setup, never as success.
    let err = replace(Path::new("/proc/self/agent-metrics-test"), b"x", &FULL).unwrap_err();
    assert!(matches!(err, Error::Io { op: atomic_fs::Op::CreateTemp, .. }), "{err}");
}

fn age(path: &Path, by: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - by).unwrap();
}

#[test]
fn stale_temporary_files_are_removed_under_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, b"one", &FULL).unwrap();
    let mut exited = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = exited.id();
    exited.wait().unwrap();
    let dead = dir.path().join(format!(".data.json.tmp.{dead_pid}.0-00000000"));
    let dead_backup = dir.path().join(format!(".data.json.bak-tmp.{dead_pid}.1-00000000"));
    let ours = dir.path().join(format!(".data.json.tmp.{}.2-00000000", std::process::id()));
    let live_old = dir.path().join(".data.json.tmp.1.0-00000000");
    let live_young = dir.path().join(".data.json.tmp.1.1-00000000");
    let unrelated = dir.path().join(".other.json.tmp.99999999.0-00000000");
    for path in [&dead, &dead_backup, &ours, &live_old, &live_young, &unrelated] {
        std::fs::write(path, b"partial").unwrap();
    }
    age(&live_old, Duration::from_secs(3600));
    let lock = FileLock::lock(&dir.path().join("data.json.lock"), Duration::from_secs(1)).unwrap();
    assert_eq!(remove_stale_temps(&lock, &target, &[]).unwrap(), 4);
    assert!(!dead.exists() && !dead_backup.exists() && !ours.exists() && !live_old.exists());
    assert!(live_young.exists(), "pid 1 is alive and might be writing without the lock");
    assert!(unrelated.exists(), "another file's temporaries are not ours");
    assert_eq!(std::fs::read(&target).unwrap(), b"one");
}

#[test]
fn no_sync_mode_still_replaces_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    let config = ReplaceConfig { durability: Durability::NoSyncTestsOnly, backup: Backup::None };
    replace(&target, b"one", &config).unwrap();
    replace(&target, b"two", &config).unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    assert_eq!(names(dir.path()), ["data.json"]);
}

#[test]
fn set_aside_keeps_the_contents_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, b"damaged", &FULL).unwrap();
    let aside = dir.path().join("data.json.corrupt-1");
    atomic_fs::set_aside(&target, &aside, Durability::Full).unwrap();
    replace(&target, b"restored", &FULL).unwrap();
    assert_eq!(std::fs::read(&aside).unwrap(), b"damaged");
    assert!(atomic_fs::set_aside(&target, &aside, Durability::Full).is_err(), "never overwrites");
    assert_eq!(std::fs::read(&aside).unwrap(), b"damaged");
}

#[test]
fn move_aside_keeps_the_contents_under_the_new_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json.bak");
    replace(&target, b"damaged", &FULL).unwrap();
    let aside = dir.path().join("data.json.bak.corrupt-1");
    atomic_fs::move_aside(&target, &aside, Durability::Full).unwrap();
    assert_eq!(std::fs::read(&aside).unwrap(), b"damaged");
    assert!(!target.exists());
}

#[test]
fn a_backup_that_already_is_the_target_is_not_rotated_again() {
    // What an interrupted rotation leaves: the backup is a second name of the target. A
    // rename between two names of one file does nothing, so rotating again would strand the
    // temporary name.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace(&target, b"one", &FULL).unwrap();
    std::fs::hard_link(&target, backup_path(&target)).unwrap();
    let replaced = replace(&target, b"two", &FULL).unwrap();
    assert!(replaced.backed_up);
    assert_eq!(std::fs::read(&target).unwrap(), b"two");
    assert_eq!(std::fs::read(backup_path(&target)).unwrap(), b"one");
    assert_eq!(names(dir.path()), ["data.json", "data.json.bak"]);
}
