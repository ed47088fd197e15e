//! `FileLock`: an exclusive cross-process lock on a lock file, held for the guard's lifetime.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

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
    /// Takes the lock, waiting in the kernel's queue until it is free or `timeout` has passed.
    ///
    /// The first attempt does not block, so an uncontended lock costs two system calls. When
    /// the lock is held, a helper thread makes a blocking `flock(LOCK_EX)` and this thread
    /// waits for it on a channel with the remaining timeout: waiting costs no CPU, and the
    /// kernel wakes waiters in turn instead of letting them race (`docs/benchmarks.md`
    /// compares it with polling). Helpers are reused: after a wait a helper parks, idle,
    /// for the next one. If the timeout passes first, the helper is left blocked in `flock`;
    /// when it gets the lock it finds nobody waiting and releases it at once (its descriptor
    /// is dropped with the unreceived message), so a late grant never holds up other
    /// processes. Such a helper is busy until the holder releases the lock.
    ///
    /// After every grant the lock file is checked to still be the file at `path`: a lock on a
    /// file someone deleted or replaced meanwhile excludes nobody, so the wait starts again on
    /// the file the path names now.
    ///
    /// Fails with [`Error::LockTimeout`] (naming the lock file and the time waited) when the
    /// lock stays held, or [`Error::Io`] when the lock file cannot be opened.
    pub fn lock(path: &Path, timeout: Duration) -> Result<FileLock, Error> {
        FileLock::lock_with_mode(path, timeout, DEFAULT_LOCK_MODE)
    }

    /// [`FileLock::lock`], creating the lock file with permission bits `mode` (less the
    /// umask), and taking away from an existing lock file this user owns the bits `mode`
    /// does not grant. Give the mode of the data the lock protects: whoever can open the lock
    /// file can hold a shared `flock` on it, which blocks every writer.
    pub fn lock_with_mode(path: &Path, timeout: Duration, mode: u32) -> Result<FileLock, Error> {
        let start = Instant::now();
        loop {
            let fd = sys::open_lock_file(path, mode).context(Op::OpenLock, path)?;
            let granted = if sys::try_lock_exclusive(&fd).context(Op::Lock, path)? {
                fd
            } else {
                let remaining = timeout.saturating_sub(start.elapsed());
                match wait_in_kernel_queue(fd, remaining) {
                    Some(Ok(fd)) => fd,
                    Some(Err(err)) => return Err(err).context(Op::Lock, path),
                    None => {
                        let waited = start.elapsed();
                        return Err(Error::LockTimeout { path: path.to_owned(), waited });
                    }
                }
            };
            if still_at_path(&granted, path)? {
                return Ok(FileLock {
                    fd: granted,
                    path: path.to_owned(),
                    waited: start.elapsed(),
                });
            }
        }
    }

    /// Takes the lock if it is free now: `Ok(None)` when someone else holds it.
    pub fn try_lock(path: &Path) -> Result<Option<FileLock>, Error> {
        loop {
            let fd = sys::open_lock_file(path, DEFAULT_LOCK_MODE).context(Op::OpenLock, path)?;
            if !sys::try_lock_exclusive(&fd).context(Op::Lock, path)? {
                return Ok(None);
            }
            if still_at_path(&fd, path)? {
                return Ok(Some(FileLock { fd, path: path.to_owned(), waited: Duration::ZERO }));
            }
        }
    }

    /// Whether no process holds the lock on `path` right now, without creating the lock file
    /// (a missing lock file is free) and without taking the lock for longer than the test.
    /// A snapshot: the lock may be taken a moment later.
    pub fn is_free(path: &Path) -> Result<bool, Error> {
        match sys::open_existing_lock_file(path).context(Op::OpenLock, path)? {
            None => Ok(true),
            Some(fd) => sys::try_lock_exclusive(&fd).context(Op::Lock, path),
        }
    }

    /// Whether the locked file is still the lock file at its path. A lock file that someone
    /// deleted or replaced while this guard held it no longer excludes a newcomer, who opens
    /// (and locks) the file the path names now; a holder that is about to commit checks this
    /// first and, if it fails, starts its update again under a fresh lock.
    pub fn is_still_at_path(&self) -> Result<bool, Error> {
        still_at_path(&self.fd, &self.path)
    }

    /// Writes `note` at the start of the lock file, over what was there (one `pwrite`, not
    /// flushed): a small record the holder keeps beside the data, such as how far a journal
    /// was acknowledged, for a later reader to compare with what the data files hold. Keep
    /// notes of one fixed length so a shorter one never leaves the end of a longer one. Lock
    /// files are never deleted, and no program of the lock's protocol reads or truncates
    /// their contents.
    pub fn write_note(&self, note: &[u8]) -> Result<(), Error> {
        sys::write_at_start(&self.fd, note).context(Op::Lock, &self.path)
    }

    /// The lock file's contents (at most `max_len` bytes), without taking the lock: `None`
    /// when there is no lock file. See [`FileLock::write_note`].
    pub fn read_note(path: &Path, max_len: u64) -> Result<Option<Vec<u8>>, Error> {
        Ok(crate::read(path, max_len)?.map(|contents| contents.bytes))
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

/// The permission bits [`FileLock::lock`] creates a lock file with: the owner's only.
pub const DEFAULT_LOCK_MODE: u32 = 0o600;

/// The stack of a lock-waiting helper thread: it only makes system calls.
const HELPER_STACK_BYTES: usize = 64 * 1024;

/// Where a waiter is told of its grant: the locked descriptor, or the error `flock` gave.
type Grant = mpsc::SyncSender<io::Result<OwnedFd>>;

/// One waiter of this process on a lock file: its own descriptor of the file (handed to the
/// helper when the helper needs one to wait on) and where to send the grant.
struct Waiter {
    fd: Option<OwnedFd>,
    grant: Grant,
}

/// Per lock file (device, inode), the waiters of this process, in arrival order, while one
/// helper is blocked in `flock` on that file for them. There is at most one such helper per
/// lock file: a waiter that arrives while one is blocked joins its queue instead of starting
/// another, so timed-out waits on a lock that stays held cost no thread each.
static QUEUES: Mutex<BTreeMap<(u64, u64), VecDeque<Waiter>>> = Mutex::new(BTreeMap::new());

/// One job for a helper: the lock file to wait on, and the descriptor to wait with.
struct Wait {
    key: (u64, u64),
    fd: OwnedFd,
}

/// Helpers that are not waiting for anyone, each reachable through its job channel. Starting
/// a thread costs about 70 us of CPU on the machine measured in `docs/benchmarks.md`, more
/// than the rest of a wait; a process keeps as many idle helpers as it ever had lock files
/// waited on at once (each parked in `recv`, costing nothing).
static IDLE_HELPERS: Mutex<Vec<mpsc::Sender<Wait>>> = Mutex::new(Vec::new());

/// Blocks in `flock(LOCK_EX)` on a helper thread, waiting at most `timeout` for it: `None`
/// on timeout (the grant then goes to the next waiter of this process on the same file, or
/// is released at once), else the locked descriptor or the error `flock` gave.
fn wait_in_kernel_queue(fd: OwnedFd, timeout: Duration) -> Option<io::Result<OwnedFd>> {
    let key = match sys::file_key(&fd) {
        Ok(key) => key,
        Err(err) => return Some(Err(err)),
    };
    let (grant, granted) = mpsc::sync_channel(1);
    {
        let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = queues.get_mut(&key) {
            // A helper is already blocked on this file: wait for its grant.
            queue.push_back(Waiter { fd: Some(fd), grant });
        } else {
            queues.insert(key, VecDeque::from([Waiter { fd: None, grant }]));
            drop(queues);
            if let Err(err) = hand_to_helper(Wait { key, fd }) {
                QUEUES.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
                return Some(Err(err));
            }
        }
    }
    match granted.recv_timeout(timeout) {
        Ok(result) => Some(result),
        Err(mpsc::RecvTimeoutError::Timeout) => None,
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Some(Err(io::Error::other("the lock-waiting thread ended without an answer")))
        }
    }
}

/// Gives `wait` to an idle helper, or starts one.
fn hand_to_helper(mut wait: Wait) -> io::Result<()> {
    loop {
        let idle = IDLE_HELPERS.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let Some(helper) = idle else {
            return start_helper(wait);
        };
        match helper.send(wait) {
            Ok(()) => return Ok(()),
            // That helper is gone (it cannot be, short of a panic); try another.
            Err(mpsc::SendError(returned)) => wait = returned,
        }
    }
}

/// Starts a helper on its first wait; after each wait it parks itself in [`IDLE_HELPERS`].
fn start_helper(first: Wait) -> io::Result<()> {
    let (jobs, jobs_rx) = mpsc::channel::<Wait>();
    std::thread::Builder::new()
        .name("atomic-fs-lock-wait".to_owned())
        .stack_size(HELPER_STACK_BYTES)
        .spawn(move || {
            let mut wait = first;
            loop {
                serve_queue(wait);
                IDLE_HELPERS.lock().unwrap_or_else(PoisonError::into_inner).push(jobs.clone());
                match jobs_rx.recv() {
                    Ok(next) => wait = next,
                    Err(_) => return,
                }
            }
        })
        .map(|_| ())
}

/// Waits in `flock` on `wait`'s file until its queue is empty: each grant goes to the first
/// waiter still waiting (a waiter that timed out has dropped its receiver and is skipped);
/// while waiters remain, the helper waits again with one of their descriptors. A grant
/// nobody takes is released at once (the descriptor is dropped).
fn serve_queue(wait: Wait) {
    let Wait { key, mut fd } = wait;
    loop {
        let mut result = Some(sys::lock_exclusive(&fd).map(|()| fd));
        let mut queues = QUEUES.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(queue) = queues.get_mut(&key) else { return };
        while let Some(waiter) = queue.pop_front() {
            let Some(offer) = result.take() else { break };
            match waiter.grant.try_send(offer) {
                Ok(()) => break,
                Err(mpsc::TrySendError::Full(back) | mpsc::TrySendError::Disconnected(back)) => {
                    result = Some(back);
                }
            }
        }
        // Either delivered (result is None) or nobody was waiting (dropped here: released).
        drop(result);
        let next = queue.iter_mut().find_map(|waiter| waiter.fd.take());
        match next {
            Some(next) => fd = next,
            None => {
                queues.remove(&key);
                return;
            }
        }
    }
}

/// Someone may have deleted or replaced the lock file between our open and our `flock`
/// (or while we waited): a lock on an unlinked file excludes nobody, so check that we hold
/// the file the path names now.
fn still_at_path(fd: &OwnedFd, path: &Path) -> Result<bool, Error> {
    sys::is_same_file(fd, path).context(Op::Lock, path)
}

#[cfg(test)]
mod tests;
