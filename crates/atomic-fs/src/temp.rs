//! Names of the temporary files beside a target, and removal of those a dead writer left.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::error::{Error, IoResultExt, Op};
use crate::sys::FileSystem;
use crate::{FileLock, directory_of};

/// A temporary file of a live process other than ours is left alone until it is this old: a
/// writer that follows the protocol cannot be mid-replace while we hold the lock, but one that
/// writes without the lock could be.
const STALE_AGE: Duration = Duration::from_secs(60);

/// Tells temporary files of one process apart.
static NEXT_NONCE: AtomicU64 = AtomicU64::new(0);

/// What a temporary file is for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TempKind {
    /// The new contents, renamed over the target.
    Contents,
    /// A hard link of the current contents, renamed over the backup.
    Backup,
    /// A hard link of the backup being replaced, kept until the commit so that a failed
    /// commit can put it back.
    PreviousBackup,
}

impl TempKind {
    fn tag(self) -> &'static str {
        match self {
            TempKind::Contents => "tmp",
            TempKind::Backup => "bak-tmp",
            TempKind::PreviousBackup => "bak-prev",
        }
    }
}

/// `dir/.NAME.tmp.PID.NONCE`: hidden, beside the target (so the rename stays in one file
/// system), and unique per process and call.
pub(crate) fn temp_path(target: &Path, kind: TempKind) -> PathBuf {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let nonce = NEXT_NONCE.fetch_add(1, Ordering::Relaxed);
    let random = fastrand::u32(..);
    let file_name = format!(".{name}.{}.{}.{nonce}-{random:08x}", kind.tag(), std::process::id());
    directory_of(target).join(file_name)
}

/// Temporary files another program that shares the lock leaves beside the target when it
/// dies mid-write: names that start with `prefix` and end with `suffix` (as Python's
/// `tempfile.mkstemp(prefix=..., suffix=...)` makes them). That program takes the lock too,
/// so while it is held every such file is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForeignTemps<'a> {
    /// The start of the names (never empty: an empty prefix matches nothing).
    pub prefix: &'a str,
    /// The end of the names.
    pub suffix: &'a str,
}

impl ForeignTemps<'_> {
    fn matches(&self, name: &str) -> bool {
        !self.prefix.is_empty() && name.starts_with(self.prefix) && name.ends_with(self.suffix)
    }
}

/// Removes the temporary files of `target` that a writer which died left behind, ours and
/// those matching `foreign`, in one listing of the directory; returns how many. Requires the
/// lock: while it is held, no writer that follows the protocol is between creating a
/// temporary file and renaming it, so every temporary file is stale.
///
/// As a defence against writers that do not take the lock, one of our files whose writer
/// process is still alive (and is not this process) is removed only once it is older than a
/// minute.
pub fn remove_stale_temps(
    lock: &FileLock,
    target: &Path,
    foreign: &[ForeignTemps<'_>],
) -> Result<usize, Error> {
    let _ = lock;
    crate::sys::with_file_system(|fs| remove_stale_temps_with(fs, target, foreign))
}

pub(crate) fn remove_stale_temps_with(
    fs: &dyn FileSystem,
    target: &Path,
    foreign: &[ForeignTemps<'_>],
) -> Result<usize, Error> {
    let dir = directory_of(target);
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let prefixes = [TempKind::Contents, TempKind::Backup, TempKind::PreviousBackup]
        .map(|kind| format!(".{name}.{}.", kind.tag()));
    let mut removed = 0;
    for entry in fs.list_dir(&dir).context(Op::ListDir, &dir)? {
        let path = dir.join(&entry);
        match writer_pid(&entry, &prefixes) {
            Some(pid) => {
                let foreign_and_alive =
                    pid != std::process::id() && crate::sys::process_is_alive(pid);
                if foreign_and_alive && !is_older_than(&path, STALE_AGE) {
                    continue;
                }
            }
            None => {
                let is_foreign = entry
                    .to_str()
                    .is_some_and(|name| foreign.iter().any(|pattern| pattern.matches(name)));
                if !is_foreign {
                    continue;
                }
            }
        }
        match fs.remove(&path) {
            Ok(()) => removed += 1,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).context(Op::Remove, &path),
        }
    }
    Ok(removed)
}

fn is_older_than(path: &Path, age: Duration) -> bool {
    std::fs::symlink_metadata(path)
        .and_then(|metadata| metadata.modified())
        .is_ok_and(|modified| SystemTime::now().duration_since(modified).unwrap_or_default() >= age)
}

/// The writer's pid if `entry` is one of our temporary files.
fn writer_pid(entry: &OsString, prefixes: &[String]) -> Option<u32> {
    let entry = entry.to_str()?;
    let rest = prefixes.iter().find_map(|prefix| entry.strip_prefix(prefix.as_str()))?;
    rest.split('.').next()?.parse().ok()
}

/// Removes a temporary file when dropped, unless it was renamed into place.
pub(crate) struct TempGuard<'a> {
    fs: &'a dyn FileSystem,
    path: PathBuf,
    armed: bool,
}

impl<'a> TempGuard<'a> {
    /// Guards `path`, which the caller has just created (a guard made before the creating call
    /// could remove a file that is not ours if the creation failed).
    pub(crate) fn created(fs: &'a dyn FileSystem, path: PathBuf) -> TempGuard<'a> {
        TempGuard { fs, path, armed: true }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The file was renamed into place: there is nothing to remove.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for TempGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: if this fails, the next writer's stale-file sweep removes it.
            let _ = self.fs.remove(&self.path);
        }
    }
}
