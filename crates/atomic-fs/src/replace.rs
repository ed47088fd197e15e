//! `replace`: durable atomic replacement of a file's contents, rotating the previous
//! generation into a backup by hard link.

use std::path::{Path, PathBuf};

use crate::error::{Error, IoResultExt, Op};
use crate::sys::{FileKind, FileSystem, Inspection};
use crate::temp::{TempGuard, TempKind, temp_path};
use crate::{FileIdentity, directory_of};

mod rotation;

use rotation::Rotation;

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
#[derive(Debug)]
pub struct Replaced {
    /// The identity of the file now at the target, to tell later whether it changed.
    pub identity: FileIdentity,
    /// The new file, still open. While it is held its inode cannot be freed and given to
    /// another file, so a later `identity` equal to [`Replaced::identity`] proves the path
    /// still names this very generation (an inode number alone proves nothing once the file
    /// is gone: file systems reuse them).
    pub file: std::fs::File,
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
///    A crash from here to the commit (step 5) leaves the target untouched and stale
///    temporary files, which [`crate::remove_stale_temps`] removes later.
/// 3. `write` all bytes, then `fdatasync(TEMP)`. If the flush fails the write is abandoned for
///    good ([`Error::Sync`]): after a failed fsync Linux may report the next one as a success
///    with the data gone (<https://lwn.net/Articles/752063/>).
/// 4. With a backup, rotate it **before** the commit: `lstat(BACKUP)` (if it already is the
///    target, as after an interrupted rotation, there is nothing to do), then
///    `link(BACKUP, PREVIOUS)` pins the backup being replaced, `link(target, BACKUP_TEMP)` pins
///    the current generation and `rename(BACKUP_TEMP, BACKUP)` makes it the backup. The backup
///    is now the same file as the target, so at no moment, crash or not, is the target more
///    than one generation ahead of the backup.
/// 5. `rename(TEMP, target)`: the commit. Readers now open the new contents; they never see a
///    mix. If it fails, `rename(PREVIOUS, BACKUP)` puts the old backup back.
/// 6. `unlink(PREVIOUS)`, then `fsync(directory)`: one flush makes every rename durable.
///    Without it a power loss can undo the commit even though the data was flushed
///    (<https://lwn.net/Articles/457667/>).
///
/// On failure up to and including the commit (steps 1 to 5) the target and the backup are as
/// they were and the temporary files are removed. The one exception needs two failures: if the
/// commit fails and putting the old backup back fails too, the backup is a second name of the
/// unchanged target. A failed unlink at step 6 is left to the next sweep. A failed directory
/// flush ([`Error::Sync`]) leaves the new contents visible but not known to be durable; the
/// caller must treat the write as failed and stop writing.
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
    crate::sys::with_file_system(|fs| replace_checked(fs, target, bytes, config, None, 0o600))
}

/// [`replace`], giving a file that does not exist yet the permission bits `new_mode` instead
/// of 0600 (an existing file keeps its own). For files other programs read as another user,
/// such as a metrics export for node_exporter (0644).
pub fn replace_with_mode(
    target: &Path,
    bytes: &[u8],
    config: &ReplaceConfig,
    new_mode: u32,
) -> Result<Replaced, Error> {
    crate::sys::with_file_system(|fs| replace_checked(fs, target, bytes, config, None, new_mode))
}

/// [`replace`] by a writer holding `lock`, which checks, right before the commit (step 5),
/// that the lock file is still the file at its path
/// ([`FileLock::is_still_at_path`](crate::FileLock::is_still_at_path)). If someone deleted or
/// replaced it, another writer may have locked the new file and be writing too: the replace
/// is abandoned like a failed commit (backup rolled back, temporary files removed, target
/// untouched) with [`Error::LockLost`], and the caller starts again under a fresh lock. The
/// check narrows the window in which a deleted lock file can let two writers commit to the
/// two system calls between it and the rename.
pub fn replace_locked(
    target: &Path,
    bytes: &[u8],
    config: &ReplaceConfig,
    lock: &crate::FileLock,
) -> Result<Replaced, Error> {
    crate::sys::with_file_system(|fs| replace_checked(fs, target, bytes, config, Some(lock), 0o600))
}

#[cfg(test)]
pub(crate) fn replace_with(
    fs: &dyn FileSystem,
    target: &Path,
    bytes: &[u8],
    config: &ReplaceConfig,
) -> Result<Replaced, Error> {
    replace_checked(fs, target, bytes, config, None, 0o600)
}

fn replace_checked(
    fs: &dyn FileSystem,
    target: &Path,
    bytes: &[u8],
    config: &ReplaceConfig,
    lock: Option<&crate::FileLock>,
    new_mode: u32,
) -> Result<Replaced, Error> {
    let existing = inspect_target(fs, target)?;
    let mode = existing.map_or(new_mode, |inspection| inspection.mode);
    let flush = config.durability == Durability::Full;

    let temp_name = temp_path(target, TempKind::Contents);
    let mut file = fs.create_new(&temp_name, mode).context(Op::CreateTemp, &temp_name)?;
    let mut temp = TempGuard::created(fs, temp_name);
    fs.write_all(&mut file, bytes).context(Op::Write, temp.path())?;
    if flush {
        sync_file(fs, &file, temp.path())?;
    }

    let (rotation, backed_up) = match (config.backup, existing) {
        (Backup::PreviousGeneration, Some(existing)) => {
            (Rotation::start(fs, target, &existing.identity)?, true)
        }
        _ => (None, false),
    };

    if let Some(lock) = lock {
        let still_held = lock.is_still_at_path();
        if !matches!(still_held, Ok(true)) {
            if let Some(rotation) = rotation {
                rotation.roll_back();
            }
            return Err(still_held
                .err()
                .unwrap_or(Error::LockLost { path: lock.path().to_owned() }));
        }
    }
    let committed = fs.rename(temp.path(), target);
    if let Err(source) = committed {
        if let Some(rotation) = rotation {
            rotation.roll_back();
        }
        return Err(Error::Io { op: Op::Rename, path: target.to_owned(), source });
    }
    temp.disarm();
    let identity = crate::read::identity_of_file(&file).context(Op::Inspect, target)?;
    if let Some(rotation) = rotation {
        rotation.finish();
    }
    flush_directory_of(fs, target, config.durability)?;
    Ok(Replaced { identity, file, backed_up })
}

/// `lstat` the target: `None` when nothing is there; an error for anything but a regular file.
fn inspect_target(fs: &dyn FileSystem, target: &Path) -> Result<Option<Inspection>, Error> {
    let existing = fs.inspect(target).context(Op::Inspect, target)?;
    match existing.map(|inspection| inspection.kind) {
        None | Some(FileKind::File) => Ok(existing),
        Some(FileKind::Directory) => Err(Error::IsDirectory { path: target.to_owned() }),
        Some(FileKind::Symlink) => Err(Error::Symlink { path: target.to_owned() }),
        Some(FileKind::Other) => Err(Error::NotRegularFile { path: target.to_owned() }),
    }
}

/// With [`Durability::Full`], flushes the directory holding `path`, making the names made in
/// it durable. A failure is final ([`Error::Sync`]).
fn flush_directory_of(
    fs: &dyn FileSystem,
    path: &Path,
    durability: Durability,
) -> Result<(), Error> {
    if durability != Durability::Full {
        return Ok(());
    }
    let dir = directory_of(path);
    fs.sync_dir(&dir).map_err(|source| Error::Sync { path: dir, source })
}

/// With [`Durability::Full`], flushes a file's data, once: a failed flush is final
/// ([`Error::Sync`]).
pub(crate) fn flush_file(
    fs: &dyn FileSystem,
    file: &std::fs::File,
    path: &Path,
    durability: Durability,
) -> Result<(), Error> {
    if durability != Durability::Full {
        return Ok(());
    }
    sync_file(fs, file, path)
}

/// Flushes the new contents, once: a failed flush is final ([`Error::Sync`]).
fn sync_file(fs: &dyn FileSystem, file: &std::fs::File, path: &Path) -> Result<(), Error> {
    fs.sync_file(file).map_err(|source| Error::Sync { path: path.to_owned(), source })
}

/// Keeps the current contents of `path` at `aside` (a hard link, never a copy), so that
/// `path` can then be replaced without losing what was there. Fails if `aside` exists; never
/// overwrites anything. With [`Durability::Full`] the directory is flushed.
pub fn set_aside(path: &Path, aside: &Path, durability: Durability) -> Result<(), Error> {
    crate::sys::with_file_system(|fs| {
        fs.link(path, aside).context(Op::Link, aside)?;
        flush_directory_of(fs, path, durability)
    })
}

/// Moves `path` to `aside` (hard link, then unlink), never overwriting `aside`; with
/// [`Durability::Full`] the directory is flushed. A crash in between leaves both names, never
/// neither.
pub fn move_aside(path: &Path, aside: &Path, durability: Durability) -> Result<(), Error> {
    crate::sys::with_file_system(|fs| {
        fs.link(path, aside).context(Op::Link, aside)?;
        fs.remove(path).context(Op::Remove, path)?;
        flush_directory_of(fs, path, durability)
    })
}

/// Removes `path` (nothing there is not an error); with [`Durability::Full`] the directory
/// is flushed, so the removal survives a power loss. For files whose contents are kept
/// elsewhere already (a journal folded into its data file); never for data.
pub fn remove(path: &Path, durability: Durability) -> Result<(), Error> {
    crate::sys::with_file_system(|fs| {
        match fs.remove(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            other => other.context(Op::Remove, path)?,
        }
        flush_directory_of(fs, path, durability)
    })
}

/// With [`Durability::Full`], flushes the directory holding `path`, making the names in it
/// durable (as a replace does after its rename). A failure is final ([`Error::Sync`]).
pub fn sync_directory_of(path: &Path, durability: Durability) -> Result<(), Error> {
    crate::sys::with_file_system(|fs| flush_directory_of(fs, path, durability))
}

#[cfg(test)]
mod tests;
