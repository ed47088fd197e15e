//! Failure injection at every step of a replace, on the real file system: before the commit
//! rename the target and its backup stay as they were and no temporary file is left behind.
//! (`tests/it/simulated.rs` does the same for every call, error and persistence, and crashes.)

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Backup, Durability, ReplaceConfig, backup_path, replace_with};
use crate::Error;
use crate::sys::{FileSystem, Inspection, RealFileSystem};

/// The steps a replace takes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    CreateTemp,
    Write,
    SyncFile,
    Link,
    RenameBackup,
    RenameContents,
    SyncDir,
}

/// The real file system, failing at one step. `Write` fails after writing half the bytes, as
/// a full disk does.
struct FailingFs {
    fail_at: Step,
    renames: AtomicUsize,
}

impl FailingFs {
    fn fail(&self, step: Step) -> io::Result<()> {
        if step == self.fail_at { Err(io::Error::from(io::ErrorKind::StorageFull)) } else { Ok(()) }
    }
}

impl FileSystem for FailingFs {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        self.fail(Step::CreateTemp)?;
        RealFileSystem.create_new(path, mode)
    }
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        if self.fail_at == Step::Write {
            RealFileSystem.write_all(file, &bytes[..bytes.len() / 2])?;
        }
        self.fail(Step::Write)?;
        RealFileSystem.write_all(file, bytes)
    }
    fn sync_file(&self, file: &File) -> io::Result<()> {
        self.fail(Step::SyncFile)?;
        RealFileSystem.sync_file(file)
    }
    fn link(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.fail(Step::Link)?;
        RealFileSystem.link(from, to)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let nth = self.renames.fetch_add(1, Ordering::Relaxed);
        // The third rename, if any, is the roll-back of the backup, which works.
        match nth {
            0 => self.fail(Step::RenameBackup)?,
            1 => self.fail(Step::RenameContents)?,
            _ => {}
        }
        RealFileSystem.rename(from, to)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.fail(Step::SyncDir)?;
        RealFileSystem.sync_dir(dir)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        RealFileSystem.remove(path)
    }
    fn inspect(&self, path: &Path) -> io::Result<Option<Inspection>> {
        RealFileSystem.inspect(path)
    }
    fn open_read(&self, path: &Path) -> io::Result<File> {
        RealFileSystem.open_read(path)
    }
    fn open_write(&self, path: &Path) -> io::Result<File> {
        RealFileSystem.open_write(path)
    }
    fn list_dir(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
        RealFileSystem.list_dir(dir)
    }
}

const FULL: ReplaceConfig =
    ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };

/// Writes generations "one" and "two", then tries "three" failing at `step`; returns the
/// error and the (target, backup) contents afterwards.
fn check(step: Step) -> (Error, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data.json");
    replace_with(&RealFileSystem, &target, b"one", &FULL).unwrap();
    replace_with(&RealFileSystem, &target, b"two", &FULL).unwrap();
    let fs = FailingFs { fail_at: step, renames: AtomicUsize::new(0) };
    let err = replace_with(&fs, &target, b"three", &FULL).unwrap_err();
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["data.json", "data.json.bak"],
        "no temporary file is left after failing at {step:?}"
    );
    let read = |path: &Path| std::fs::read_to_string(path).unwrap();
    (err, read(&target), read(&backup_path(&target)))
}

#[test]
fn failures_before_the_commit_rename_change_nothing() {
    let steps = [
        Step::CreateTemp,
        Step::Write,
        Step::SyncFile,
        Step::Link,
        Step::RenameBackup,
        Step::RenameContents,
    ];
    for step in steps {
        let (err, target, backup) = check(step);
        assert_eq!((target.as_str(), backup.as_str()), ("two", "one"), "after failing at {step:?}");
        let message = err.to_string();
        assert!(message.contains("data.json"), "{step:?}: the error names the file: {message}");
        assert_eq!(err.is_sync_failure(), step == Step::SyncFile, "{step:?}: {message}");
    }
}

#[test]
fn a_full_disk_mid_write_says_so() {
    let (err, _, _) = check(Step::Write);
    assert!(
        err.to_string().contains("the disk is full; the previous contents are unchanged"),
        "{err}"
    );
}

#[test]
fn a_failed_commit_puts_the_old_backup_back() {
    let (err, target, backup) = check(Step::RenameContents);
    assert_eq!((target.as_str(), backup.as_str()), ("two", "one"));
    assert!(matches!(err, Error::Io { op: crate::Op::Rename, .. }), "{err}");
}

#[test]
fn failed_directory_flush_is_final_and_leaves_whole_generations() {
    let (err, target, backup) = check(Step::SyncDir);
    assert!(err.is_sync_failure(), "{err}");
    assert_eq!((target.as_str(), backup.as_str()), ("three", "two"));
}

#[test]
fn no_sync_mode_skips_every_flush() {
    for step in [Step::SyncFile, Step::SyncDir] {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("data.json");
        let fs = FailingFs { fail_at: step, renames: AtomicUsize::new(0) };
        let config =
            ReplaceConfig { durability: Durability::NoSyncTestsOnly, backup: Backup::None };
        replace_with(&fs, &target, b"fast", &config).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"fast");
    }
}

#[test]
fn a_symlink_planted_at_the_temporary_path_is_never_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    replace_with(&RealFileSystem, &victim, b"precious", &FULL).unwrap();
    let planted = dir.path().join(".data.json.tmp.1.0");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    let err = RealFileSystem.create_new(&planted, 0o600).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}
