//! `replace`: durable atomic replacement of a file's contents, rotating the previous
//! generation into a backup by hard link.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoResultExt, Op};
use crate::sys::{FileKind, FileSystem, RealFileSystem};
use crate::temp::{TempGuard, TempKind, temp_path};
use crate::{FileIdentity, directory_of};

/// Whether writes are flushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Flush the file and its directory before returning: the new contents survive a crash or
    /// power loss once `replace` returns. The default for every real use.
    Full,
    /// **For tests and benchmarks only.** No fsync at all: still atomic for readers and after
    /// a process crash, but a power loss may lose the write or leave an empty file.
    NoSyncTestsOnly,
}

/// Whether the previous contents are kept as a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    /// Keep no backup.
    None,
    /// Keep the previous generation at [`backup_path`], rotated by hard link: no second copy
    /// of the bytes is written.
    PreviousGeneration,
}

/// How to replace a file. No `Default`: each caller says what it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplaceConfig {
    /// Whether to flush to disk.
    pub durability: Durability,
    /// Whether to keep the previous generation.
    pub backup: Backup,
}

/// What a successful [`replace`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// The identity of the file now at the target, to tell later whether it changed.
    pub identity: FileIdentity,
    /// Whether the previous generation was rotated into the backup (false for a new file).
    pub backed_up: bool,
}

/// The backup of `target`: `NAME.bak` beside it.
pub fn backup_path(target: &Path) -> PathBuf {
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    target.with_file_name(name)
}

/// Replaces the contents of `target` with `bytes`, atomically and (with
/// [`Durability::Full`]) durably.
///
/// The system calls, in order (see `docs/durability.md`):
///
/// 1. `lstat(target)`: refuse a directory or a symbolic link; keep the permission bits of an
///    existing file (a new file gets `0600`).
/// 2. `open(TEMP, O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)` beside the target, `fchmod`.
///    A crash from here to step 5 leaves only a stale temporary file, which
///    [`crate::remove_stale_temps`] removes later; the target is untouched.
/// 3. `write` all bytes, then `fdatasync(TEMP)`. If the flush fails the write is abandoned for
///    good ([`Error::Sync`]): after a failed fsync Linux may report the next one as a success
///    with the data gone (<https://lwn.net/Articles/752063/>).
/// 4. With a backup: `link(target, BACKUP_TEMP)`, pinning the current generation.
/// 5. `rename(TEMP, target)`: readers now open the new contents; they never see a mix.
/// 6. With a backup: `rename(BACKUP_TEMP, target.bak)`.
/// 7. `fsync(directory)`: one flush makes both renames durable. Without it a power loss
///    can undo the rename even though the data was flushed
///    (<https://lwn.net/Articles/457667/>).
///
/// On failure before step 5 the target and backup are as they were and the temporary files
/// are removed. A failure at step 6 leaves the new contents in place and the old backup
/// (one generation older); it is reported as [`Error::Io`] after the directory is flushed. A
/// failure at step 7 ([`Error::Sync`]) leaves the new contents visible but not known to be
/// durable; the caller must treat the write as failed and stop writing.
///
/// The caller should hold a [`crate::FileLock`] if other writers may replace the same target.
/// Readers need no lock.
///
/// ```
/// use atomic_fs::{Backup, Durability, ReplaceConfig, backup_path, replace};
///
/// let dir = tempfile::tempdir()?;
/// let target = dir.path().join("state.json");
/// let config = ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };
/// replace(&target, b"one", &config)?;
/// replace(&target, b"two", &config)?;
/// assert_eq!(std::fs::read(&target)?, b"two");
/// assert_eq!(std::fs::read(backup_path(&target))?, b"one");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replace(target: &Path, bytes: &[u8], config: &ReplaceConfig) -> Result<Replaced, Error> {
    replace_with(&RealFileSystem, target, bytes, config)
}

pub(crate) fn replace_with(
    fs: &dyn FileSystem,
    target: &Path,
    bytes: &[u8],
    config: &ReplaceConfig,
) -> Result<Replaced, Error> {
    let dir = directory_of(target);
    let existing = fs.inspect(target).context(Op::Inspect, target)?;
    match existing.map(|inspection| inspection.kind) {
        None | Some(FileKind::File) => {}
        Some(FileKind::Directory) => return Err(Error::IsDirectory { path: target.to_owned() }),
        Some(FileKind::Symlink) => return Err(Error::Symlink { path: target.to_owned() }),
        Some(FileKind::Other) => {
            let source = std::io::Error::other("not a regular file");
            return Err(Error::Io { op: Op::Inspect, path: target.to_owned(), source });
        }
    }
    let mode = existing.map_or(0o600, |inspection| inspection.mode);

    let mut temp = TempGuard::new(fs, temp_path(target, TempKind::Contents));
    let mut file = fs.create_new(temp.path(), mode).context(Op::CreateTemp, temp.path())?;
    fs.write_all(&mut file, bytes).context(Op::Write, temp.path())?;
    if config.durability == Durability::Full {
        injected("atomic-fs::sync-file")
            .and_then(|()| fs.sync_file(&file))
            .map_err(|source| Error::Sync { path: temp.path().to_owned(), source })?;
    }

    let mut backup_temp = None;
    if config.backup == Backup::PreviousGeneration && existing.is_some() {
        let guard = TempGuard::new(fs, temp_path(target, TempKind::Backup));
        fs.link(target, guard.path()).context(Op::Link, target)?;
        backup_temp = Some(guard);
    }

    injected("atomic-fs::rename")
        .and_then(|()| fs.rename(temp.path(), target))
        .context(Op::Rename, target)?;
    temp.disarm();
    let identity = crate::read::identity_of_file(&file).context(Op::Inspect, target)?;
    drop(file);

    let rotated = match backup_temp.as_mut() {
        Some(guard) => {
            let backup = backup_path(target);
            let renamed = fs.rename(guard.path(), &backup).context(Op::Rename, &backup);
            if renamed.is_ok() {
                guard.disarm();
            }
            Some(renamed)
        }
        None => None,
    };
    drop(backup_temp);

    if config.durability == Durability::Full {
        injected("atomic-fs::sync-dir")
            .and_then(|()| fs.sync_dir(&dir))
            .map_err(|source| Error::Sync { path: dir.clone(), source })?;
    }
    match rotated {
        Some(Err(err)) => Err(err),
        Some(Ok(())) => Ok(Replaced { identity, backed_up: true }),
        None => Ok(Replaced { identity, backed_up: false }),
    }
}

/// A failure configured for the named point by a test (feature `failpoints`), as the I/O error
/// `EIO`; always `Ok` otherwise.
fn injected(name: &str) -> std::io::Result<()> {
    #[cfg(feature = "failpoints")]
    if fail::eval(name, |_| ()).is_some() {
        return Err(std::io::Error::from_raw_os_error(5));
    }
    let _ = name;
    Ok(())
}

/// Keeps the current contents of `path` at `aside` (a hard link, never a copy), so that
/// `path` can then be replaced without losing what was there. Fails if `aside` exists; never
/// overwrites anything. With [`Durability::Full`] the directory is flushed.
pub fn set_aside(path: &Path, aside: &Path, durability: Durability) -> Result<(), Error> {
    let fs = RealFileSystem;
    fs.link(path, aside).context(Op::Link, aside)?;
    if durability == Durability::Full {
        let dir = directory_of(path);
        fs.sync_dir(&dir).map_err(|source| Error::Sync { path: dir.clone(), source })?;
    }
    Ok(())
}

/// Moves `path` to `aside` (hard link, then unlink), never overwriting `aside`; with
/// [`Durability::Full`] the directory is flushed. A crash in between leaves both names, never
/// neither.
pub fn move_aside(path: &Path, aside: &Path, durability: Durability) -> Result<(), Error> {
    let fs = RealFileSystem;
    fs.link(path, aside).context(Op::Link, aside)?;
    fs.remove(path).context(Op::Remove, path)?;
    if durability == Durability::Full {
        let dir = directory_of(path);
        fs.sync_dir(&dir).map_err(|source| Error::Sync { path: dir.clone(), source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
