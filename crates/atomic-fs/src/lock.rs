//! `FileLock`: an exclusive cross-process lock on a lock file, held for the guard's lifetime.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::backoff::Backoff;
use crate::error::{Error, IoResultExt, Op};
use crate::sys;

/// An exclusive `flock` on a lock file, released when dropped (on every path, unwinding
/// included).
///
/// The lock file sits beside the data it protects and is never deleted: deleting it while
/// another process waits on it would let two processes "hold" different files. A holder that
/// dies, even by `SIGKILL`, releases the lock because the kernel closes its descriptor. The
/// descriptor is close-on-exec, so a child process never inherits the lock.
///
/// `flock` locks are per open file description: two `FileLock`s in one process exclude each
/// other just as two processes do. On NFS, `flock` may be emulated with `fcntl` locks or be
/// local to one machine; see `docs/durability.md`.
///
/// ```
/// use std::time::Duration;
/// use atomic_fs::FileLock;
///
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("data.lock");
/// let held = FileLock::lock(&path, Duration::from_secs(1))?;
/// assert!(FileLock::try_lock(&path)?.is_none(), "held elsewhere");
/// drop(held);
/// assert!(FileLock::try_lock(&path)?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileLock {
    fd: OwnedFd,
    path: PathBuf,
    waited: Duration,
}

impl FileLock {
    /// Takes the lock, retrying with a short jittered backoff until `timeout` has passed.
    ///
    /// Fails with [`Error::LockTimeout`] (naming the lock file and the time waited) when the
    /// lock stays held, or [`Error::Io`] when the lock file cannot be opened.
    pub fn lock(path: &Path, timeout: Duration) -> Result<FileLock, Error> {
        let start = Instant::now();
        let mut backoff = Backoff::new();
        let mut fd = sys::open_lock_file(path).context(Op::OpenLock, path)?;
        loop {
            match lock_fd(fd, path)? {
                Attempt::Locked(fd) => {
                    return Ok(FileLock { fd, path: path.to_owned(), waited: start.elapsed() });
                }
                Attempt::Busy(same_fd) => fd = same_fd,
                Attempt::Stale => {
                    fd = sys::open_lock_file(path).context(Op::OpenLock, path)?;
                    continue;
                }
            }
            let elapsed = start.elapsed();
            if elapsed >= timeout {
                return Err(Error::LockTimeout { path: path.to_owned(), waited: elapsed });
            }
            std::thread::sleep(backoff.next_sleep(elapsed).min(timeout - elapsed));
        }
    }

    /// Takes the lock if it is free now: `Ok(None)` when someone else holds it.
    pub fn try_lock(path: &Path) -> Result<Option<FileLock>, Error> {
        loop {
            let fd = sys::open_lock_file(path).context(Op::OpenLock, path)?;
            match lock_fd(fd, path)? {
                Attempt::Locked(fd) => {
                    return Ok(Some(FileLock {
                        fd,
                        path: path.to_owned(),
                        waited: Duration::ZERO,
                    }));
                }
                Attempt::Busy(_) => return Ok(None),
                Attempt::Stale => continue,
            }
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How long [`FileLock::lock`] waited before it got the lock.
    pub fn waited(&self) -> Duration {
        self.waited
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // If unlocking fails, closing the descriptor (right after) releases the lock anyway.
        let _ = sys::unlock(&self.fd);
    }
}

enum Attempt {
    Locked(OwnedFd),
    Busy(OwnedFd),
    /// We locked a file that is no longer at the path (it was deleted or replaced).
    Stale,
}

fn lock_fd(fd: OwnedFd, path: &Path) -> Result<Attempt, Error> {
    if !sys::try_lock_exclusive(&fd).context(Op::Lock, path)? {
        return Ok(Attempt::Busy(fd));
    }
    // Someone may have deleted the lock file between our open and our flock: a lock on an
    // unlinked file excludes nobody, so check that we locked the file the path names now.
    if sys::is_same_file(&fd, path).context(Op::Lock, path)? {
        Ok(Attempt::Locked(fd))
    } else {
        Ok(Attempt::Stale)
    }
}

#[cfg(test)]
mod tests;
