//! The backup rotation of one replace: `NAME.bak` becomes a second name of the current
//! generation just before the commit, and goes back to what it was if the commit fails.

use std::path::{Path, PathBuf};

use super::backup_path;
use crate::FileIdentity;
use crate::error::{Error, IoResultExt, Op};
use crate::sys::{FileKind, FileSystem};
use crate::temp::{TempGuard, TempKind, temp_path};

/// A backup rotation in progress.
pub(crate) struct Rotation<'a> {
    fs: &'a dyn FileSystem,
    backup: PathBuf,
    /// The backup being replaced, under a temporary name until the commit is done (`None` when
    /// there was no backup).
    previous: Option<TempGuard<'a>>,
}

impl<'a> Rotation<'a> {
    /// Pins the old backup and makes the current generation of `target` (whose identity is
    /// `current`) the backup. On error nothing changed and the temporary names are gone.
    ///
    /// If the backup already is the current file (an earlier rotation whose commit failed or
    /// was lost in a crash), there is nothing to rotate: and `rename` between two names of the
    /// same file does nothing at all, which would leave the temporary name behind. Then this
    /// returns `None`.
    pub(crate) fn start(
        fs: &'a dyn FileSystem,
        target: &Path,
        current: &FileIdentity,
    ) -> Result<Option<Rotation<'a>>, Error> {
        let backup = backup_path(target);
        let existing = fs.inspect(&backup).context(Op::Inspect, &backup)?;
        let previous = match existing {
            Some(found) if found.kind == FileKind::File && found.identity.is_same_file(current) => {
                return Ok(None);
            }
            None => None,
            Some(_) => match link_temp(fs, &backup, target, TempKind::PreviousBackup) {
                Ok(pin) => Some(pin),
                // Removed since the lstat (by hand: writers hold the lock): nothing to keep.
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                Err(err) => return Err(err).context(Op::Link, &backup),
            },
        };
        let mut pinned =
            link_temp(fs, target, target, TempKind::Backup).context(Op::Link, target)?;
        fs.rename(pinned.path(), &backup).context(Op::Rename, &backup)?;
        pinned.disarm();
        Ok(Some(Rotation { fs, backup, previous }))
    }

    /// The commit failed: puts the previous backup back (or removes the new one if there was
    /// none). Best effort: if this fails too, the backup is a second name of the unchanged
    /// target, which is whole.
    pub(crate) fn roll_back(mut self) {
        match self.previous.as_mut() {
            Some(previous) => {
                if self.fs.rename(previous.path(), &self.backup).is_ok() {
                    previous.disarm();
                }
            }
            None => {
                let _ = self.fs.remove(&self.backup);
            }
        }
    }

    /// The commit is done: drops the pinned previous backup (best effort: a leftover
    /// temporary name is swept by the next writer).
    pub(crate) fn finish(self) {
        drop(self);
    }
}

/// Hard-links `source` under a new temporary name of `target`'s kind `kind`.
fn link_temp<'a>(
    fs: &'a dyn FileSystem,
    source: &Path,
    target: &Path,
    kind: TempKind,
) -> std::io::Result<TempGuard<'a>> {
    let name = temp_path(target, kind);
    fs.link(source, &name)?;
    Ok(TempGuard::created(fs, name))
}
