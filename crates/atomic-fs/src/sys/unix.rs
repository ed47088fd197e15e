//! The Unix implementation of the seam, through rustix (and `std` where it does better, such as
//! `File::sync_data` using `F_FULLFSYNC` on macOS).

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{AtFlags, CWD, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use super::{FileKind, FileSystem, Inspection};
use crate::FileIdentity;

/// The real file system.
pub(crate) struct RealFileSystem;

impl FileSystem for RealFileSystem {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd =
            retry_on_interrupt(|| rustix::fs::open(path, flags, Mode::from_raw_mode(mode as _)))?;
        // The umask narrows the mode given to open(2); set the bits we were asked for.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _))?;
        Ok(File::from(fd))
    }

    fn write_all(&self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        // `write_all` retries EINTR and short writes.
        file.write_all(bytes)
    }

    fn sync_file(&self, file: &File) -> io::Result<()> {
        file.sync_data()
    }

    fn link(&self, from: &Path, to: &Path) -> io::Result<()> {
        retry_on_interrupt(|| rustix::fs::linkat(CWD, from, CWD, to, AtFlags::empty()))?;
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        retry_on_interrupt(|| rustix::fs::rename(from, to))?;
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = retry_on_interrupt(|| rustix::fs::open(dir, flags, Mode::empty()))?;
        retry_on_interrupt(|| rustix::fs::fsync(&fd))?;
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        retry_on_interrupt(|| rustix::fs::unlink(path))?;
        Ok(())
    }

    fn inspect(&self, path: &Path) -> io::Result<Option<Inspection>> {
        match std::fs::symlink_metadata(path) {
            Ok(metadata) => {
                let file_type = metadata.file_type();
                let kind = if file_type.is_symlink() {
                    FileKind::Symlink
                } else if file_type.is_dir() {
                    FileKind::Directory
                } else if file_type.is_file() {
                    FileKind::File
                } else {
                    FileKind::Other
                };
                let mode = metadata.permissions().mode() & 0o7777;
                Ok(Some(Inspection { kind, mode, identity: identity_of(&metadata) }))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn open_read(&self, path: &Path) -> io::Result<File> {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, forever;
        // the caller refuses anything but a regular file right after (it has no effect on
        // reading a regular file).
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = retry_on_interrupt(|| rustix::fs::open(path, flags, Mode::empty()))?;
        Ok(File::from(fd))
    }

    fn open_write(&self, path: &Path) -> io::Result<File> {
        // O_NONBLOCK for the same reason as `open_read`: a FIFO must be refused, not waited on.
        let flags =
            OFlags::WRONLY | OFlags::APPEND | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = retry_on_interrupt(|| rustix::fs::open(path, flags, Mode::empty()))?;
        Ok(File::from(fd))
    }

    fn list_dir(&self, dir: &Path) -> io::Result<Vec<std::ffi::OsString>> {
        std::fs::read_dir(dir)?.map(|entry| entry.map(|entry| entry.file_name())).collect()
    }
}

/// The identity of an open file or a path's metadata.
pub(crate) fn identity_of(metadata: &std::fs::Metadata) -> FileIdentity {
    FileIdentity {
        device: metadata.dev(),
        inode: metadata.ino(),
        size: metadata.size(),
        modified_ns: (metadata.mtime(), metadata.mtime_nsec()),
        changed_ns: (metadata.ctime(), metadata.ctime_nsec()),
    }
}

/// Opens (creating if needed) a lock file, close-on-exec so that child processes never
/// inherit the lock. Falls back to read-only, which is enough for `flock`, when the file
/// belongs to someone else.
pub(crate) fn open_lock_file(path: &Path, mode: u32) -> io::Result<OwnedFd> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match retry_on_interrupt(|| rustix::fs::open(path, flags, Mode::from_raw_mode(mode))) {
        Err(Errno::ACCESS) => {
            // A lock file we may not write (another user's, read-only to us) still locks;
            // but when there is none, the directory refused its creation: say that.
            let read_only = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            return match retry_on_interrupt(|| rustix::fs::open(path, read_only, Mode::empty())) {
                Err(Errno::NOENT) => Err(Errno::ACCESS.into()),
                other => Ok(other?),
            };
        }
        other => other?,
    };
    narrow_mode(&fd, mode);
    Ok(fd)
}

/// Takes away from a lock file we own the permission bits `mode` does not grant (a lock file
/// another program created 0644 lets anyone who can open it hold a shared lock that blocks
/// every writer). Best effort: a file owned by someone else is left as it is.
fn narrow_mode(fd: &OwnedFd, mode: u32) {
    let Ok(stat) = rustix::fs::fstat(fd.as_fd()) else { return };
    let current = stat.st_mode & 0o7777;
    let narrowed = current & mode & 0o7777;
    if narrowed != current && stat.st_uid == rustix::process::geteuid().as_raw() {
        let _ = rustix::fs::fchmod(fd.as_fd(), Mode::from_raw_mode(narrowed));
    }
}

/// The device and inode of an open file: which file it is, whatever its path now.
pub(crate) fn file_key(fd: &OwnedFd) -> io::Result<(u64, u64)> {
    let stat = rustix::fs::fstat(fd.as_fd())?;
    #[expect(clippy::useless_conversion, reason = "st_dev and st_ino vary in width by platform")]
    Ok((u64::from(stat.st_dev), u64::from(stat.st_ino)))
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(true)` when taken, `Ok(false)` when someone else holds it.
pub(crate) fn try_lock_exclusive(fd: &OwnedFd) -> io::Result<bool> {
    match retry_on_interrupt(|| rustix::fs::flock(fd, FlockOperation::NonBlockingLockExclusive)) {
        Ok(()) => Ok(true),
        Err(Errno::WOULDBLOCK) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// `flock(LOCK_EX)`, blocking in the kernel's queue until the lock is granted.
pub(crate) fn lock_exclusive(fd: &OwnedFd) -> io::Result<()> {
    retry_on_interrupt(|| rustix::fs::flock(fd, FlockOperation::LockExclusive))?;
    Ok(())
}

/// Opens an existing lock file without creating it (read-only is enough for `flock`), for a
/// look at the lock that must not write anything; `None` when there is no lock file.
pub(crate) fn open_existing_lock_file(path: &Path) -> io::Result<Option<OwnedFd>> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match retry_on_interrupt(|| rustix::fs::open(path, flags, Mode::empty())) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(errno) => Err(errno.into()),
    }
}

/// `flock(LOCK_UN)`. Closing the descriptor would release it too; unlocking first makes the
/// release independent of any duplicate of the descriptor.
pub(crate) fn unlock(fd: &OwnedFd) -> io::Result<()> {
    retry_on_interrupt(|| rustix::fs::flock(fd, FlockOperation::Unlock))?;
    Ok(())
}

/// Whether the open lock file is still the file at `path` (someone may have deleted or
/// replaced the lock file between our open and our flock; a lock on an unlinked file excludes
/// nobody).
pub(crate) fn is_same_file(fd: &OwnedFd, path: &Path) -> io::Result<bool> {
    let open = rustix::fs::fstat(fd.as_fd())?;
    match rustix::fs::stat(path) {
        Ok(named) => {
            Ok(open.st_dev == named.st_dev && open.st_ino == named.st_ino && open.st_nlink > 0)
        }
        Err(Errno::NOENT) => Ok(false),
        Err(errno) => Err(errno.into()),
    }
}

/// Whether a process with this id exists (`kill(pid, 0)`); a process we may not signal exists.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid).ok().and_then(rustix::process::Pid::from_raw) else {
        return false;
    };
    !matches!(rustix::process::test_kill_process(pid), Err(Errno::SRCH))
}

/// Whether an error is `open(O_NOFOLLOW)` refusing a symbolic link (`ELOOP`).
pub(crate) fn is_symlink_loop(err: &io::Error) -> bool {
    err.raw_os_error() == Some(Errno::LOOP.raw_os_error())
}

/// Repeats a system call interrupted by a signal (`EINTR`).
fn retry_on_interrupt<T>(mut call: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
    loop {
        match call() {
            Err(Errno::INTR) => continue,
            other => return other,
        }
    }
}

/// `geteuid()`.
pub(crate) fn effective_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// `access(dir, W_OK | X_OK)`.
pub(crate) fn check_dir_writable(dir: &Path) -> io::Result<()> {
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    Ok(rustix::fs::access(dir, access)?)
}

/// `setrlimit(RLIMIT_NOFILE)` with the soft limit at the hard limit; the soft limit after.
pub(crate) fn raise_descriptor_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        if setrlimit(Resource::Nofile, limit).is_err() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    limit.current
}

/// `pwrite(fd, bytes, 0)`, whole.
pub(crate) fn write_at_start(fd: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    let mut written = 0;
    while written < bytes.len() {
        let offset = written as u64;
        written += retry_on_interrupt(|| rustix::io::pwrite(fd, &bytes[written..], offset))?;
    }
    Ok(())
}
