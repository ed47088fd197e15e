//! Injected I/O errors: which call fails, how, and for how long.

use std::fmt;
use std::io;

use rustix::io::Errno;

/// The seam calls, as the fault plan and the call log name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallKind {
    /// `open(O_CREAT | O_EXCL)` of a temporary file.
    CreateNew,
    /// `write` of the new contents.
    Write,
    /// `fdatasync` of a file.
    SyncFile,
    /// `link`.
    Link,
    /// `rename`.
    Rename,
    /// `fsync` of the directory.
    SyncDir,
    /// `unlink`.
    Remove,
    /// `lstat`.
    Inspect,
    /// `open` for reading.
    OpenRead,
    /// `open` of an existing file for writing (a journal append).
    OpenWrite,
    /// `readdir`.
    ListDir,
}

impl CallKind {
    /// Whether the call changes the disk.
    pub fn is_mutating(self) -> bool {
        !matches!(
            self,
            CallKind::Inspect | CallKind::OpenRead | CallKind::OpenWrite | CallKind::ListDir
        )
    }
}

/// One call made through the seam, numbered from zero in the order made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeamCall {
    /// Its number, which a [`Fault`] names.
    pub number: usize,
    /// Which call.
    pub kind: CallKind,
    /// The file name it was about (empty for the directory).
    pub name: String,
}

impl fmt::Display for SeamCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call {} {:?}({})", self.number, self.kind, self.name)
    }
}

/// The error a faulty call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultKind {
    /// `EIO`: the device failed. At a flush this is the failed fsync.
    Eio,
    /// `ENOSPC`: the disk is full.
    Enospc,
    /// `EDQUOT`: the user's quota is exhausted.
    Edquot,
    /// `EACCES`: permission denied.
    Eacces,
    /// `EROFS`: the file system is (or was remounted) read-only.
    Erofs,
    /// A short write: half the bytes reach the file, then `ENOSPC`. Only for writes; any other
    /// call fails with `ENOSPC`.
    ShortWrite,
}

impl FaultKind {
    /// Every kind, for suites that try them all.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Eio,
        FaultKind::Enospc,
        FaultKind::Edquot,
        FaultKind::Eacces,
        FaultKind::Erofs,
        FaultKind::ShortWrite,
    ];

    /// The error the call returns.
    pub fn error(self) -> io::Error {
        let errno = match self {
            FaultKind::Eio => Errno::IO,
            FaultKind::Enospc | FaultKind::ShortWrite => Errno::NOSPC,
            FaultKind::Edquot => Errno::DQUOT,
            FaultKind::Eacces => Errno::ACCESS,
            FaultKind::Erofs => Errno::ROFS,
        };
        io::Error::from(errno)
    }
}

/// How long a fault lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Persistence {
    /// Only the named call fails (a transient error).
    Once,
    /// The named call and every later call of the same kind fail (a full disk stays full, a
    /// failing flush keeps failing).
    SameCallFromThenOn,
    /// The named call and every later call of any kind fail (the device is gone, or the file
    /// system was remounted read-only): not even a temporary file can be removed.
    EveryCallFromThenOn,
}

impl Persistence {
    /// Every persistence, for suites that try them all.
    pub const ALL: [Persistence; 3] =
        [Persistence::Once, Persistence::SameCallFromThenOn, Persistence::EveryCallFromThenOn];
}

/// An error injected at call number `call` (see [`super::Simulation::calls`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fault {
    /// The first call that fails.
    pub call: usize,
    /// What it fails with.
    pub kind: FaultKind,
    /// Whether later calls fail too.
    pub persistence: Persistence,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} at call {} ({:?})", self.kind, self.call, self.persistence)
    }
}

/// The injected faults and which calls they have hit.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    faults: Vec<Fault>,
    /// Each fault that fired, with the kind of the call it first hit.
    fired: Vec<(Fault, CallKind)>,
}

impl FaultPlan {
    pub(crate) fn add(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    /// The fault that hits call `number` of kind `kind`, if any.
    pub(crate) fn hit(&mut self, number: usize, kind: CallKind) -> Option<FaultKind> {
        if let Some(fault) = self.faults.iter().find(|fault| fault.call == number).copied() {
            self.fired.push((fault, kind));
            return Some(fault.kind);
        }
        self.fired.iter().find_map(|(fault, first_kind)| match fault.persistence {
            Persistence::Once => None,
            Persistence::SameCallFromThenOn => (*first_kind == kind).then_some(fault.kind),
            Persistence::EveryCallFromThenOn => Some(fault.kind),
        })
    }

    /// Stops every fault (the disk was repaired).
    pub(crate) fn clear(&mut self) {
        self.faults.clear();
        self.fired.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistence_decides_which_later_calls_fail() {
        let mut plan = FaultPlan::default();
        plan.add(Fault { call: 1, kind: FaultKind::Enospc, persistence: Persistence::Once });
        assert_eq!(plan.hit(0, CallKind::Write), None);
        assert_eq!(plan.hit(1, CallKind::Write), Some(FaultKind::Enospc));
        assert_eq!(plan.hit(2, CallKind::Write), None);

        let mut plan = FaultPlan::default();
        let persistence = Persistence::SameCallFromThenOn;
        plan.add(Fault { call: 1, kind: FaultKind::Eio, persistence });
        assert_eq!(plan.hit(1, CallKind::SyncFile), Some(FaultKind::Eio));
        assert_eq!(plan.hit(2, CallKind::Rename), None);
        assert_eq!(plan.hit(3, CallKind::SyncFile), Some(FaultKind::Eio));

        let mut plan = FaultPlan::default();
        let persistence = Persistence::EveryCallFromThenOn;
        plan.add(Fault { call: 0, kind: FaultKind::Erofs, persistence });
        assert_eq!(plan.hit(0, CallKind::CreateNew), Some(FaultKind::Erofs));
        assert_eq!(plan.hit(1, CallKind::Remove), Some(FaultKind::Erofs));
        plan.clear();
        assert_eq!(plan.hit(2, CallKind::Remove), None);
    }

    #[test]
    fn errors_carry_their_errno() {
        assert_eq!(FaultKind::Enospc.error().kind(), io::ErrorKind::StorageFull);
        assert_eq!(FaultKind::Edquot.error().kind(), io::ErrorKind::QuotaExceeded);
        assert_eq!(FaultKind::Erofs.error().kind(), io::ErrorKind::ReadOnlyFilesystem);
        assert_eq!(FaultKind::Eacces.error().kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(FaultKind::Eio.error().raw_os_error(), Some(5));
    }
}
