//! Deliberately broken variants of the replace protocol. The crash-consistency suite turns one
//! on (through the `simulation` feature's file system) to prove that it catches the bug; in a
//! build without that feature [`mutated`] is always false and the branches compile away.

use crate::sys::FileSystem;

/// A deliberate bug in [`super::replace`], each one a mistake that the ALICE study (OSDI 2014)
/// found in real applications' update protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    not(feature = "simulation"),
    allow(unreachable_pub, dead_code, reason = "public only with the `simulation` feature")
)]
pub enum Mutant {
    /// Never flush the directory: the commit rename may not survive a power loss.
    SkipDirSync,
    /// Rename the new file over the target before flushing its data.
    RenameBeforeFileSync,
    /// Rotate the backup after the commit instead of before it (the protocol before the crash
    /// suite existed): for a moment the target is two generations ahead of the backup.
    BackupAfterCommit,
    /// Flush the new file again after a failed flush, and carry on if that one succeeds.
    RetryFailedSync,
}

#[cfg_attr(
    not(feature = "simulation"),
    allow(unreachable_pub, dead_code, reason = "used only with the `simulation` feature")
)]
impl Mutant {
    /// Every mutant, for suites that try them all.
    pub const ALL: [Mutant; 4] = [
        Mutant::SkipDirSync,
        Mutant::RenameBeforeFileSync,
        Mutant::BackupAfterCommit,
        Mutant::RetryFailedSync,
    ];
}

/// Whether the file system under test asks for `mutant`.
#[inline]
pub(crate) fn mutated(fs: &dyn FileSystem, mutant: Mutant) -> bool {
    #[cfg(feature = "simulation")]
    {
        fs.mutant() == Some(mutant)
    }
    #[cfg(not(feature = "simulation"))]
    {
        let _ = (fs, mutant);
        false
    }
}
