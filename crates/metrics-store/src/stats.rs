//! `StoreStats`: counters a handle keeps about its locking, recoveries and writes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a handle's counters since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Times the file lock was taken.
    pub lock_acquisitions: u64,
    /// Total time spent waiting for the file lock.
    pub lock_wait_total: Duration,
    /// Longest single wait for the file lock.
    pub lock_wait_max: Duration,
    /// Times the lock could not be taken before the timeout.
    pub lock_timeouts: u64,
    /// Recoveries from a damaged or missing file.
    pub recoveries: u64,
    /// Durable writes of the file.
    pub writes: u64,
    /// Bytes written to the file.
    pub bytes_written: u64,
    /// Updates that reused the state this handle last wrote instead of re-reading the file.
    pub cache_hits: u64,
    /// Updates started again because the lock file was deleted or replaced while held.
    pub locks_lost: u64,
    /// Entries appended to the journal (journal mode).
    pub journal_appends: u64,
    /// Bytes appended to the journal.
    pub journal_bytes: u64,
    /// Checkpoints: journals folded into the file and started afresh.
    pub checkpoints: u64,
    /// Journal entries folded into the file by those checkpoints.
    pub entries_folded: u64,
    /// Checkpoints that failed after an append (the append stood; the next writer retries).
    pub checkpoint_failures: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    lock_acquisitions: AtomicU64,
    lock_wait_total_ns: AtomicU64,
    lock_wait_max_ns: AtomicU64,
    lock_timeouts: AtomicU64,
    recoveries: AtomicU64,
    writes: AtomicU64,
    bytes_written: AtomicU64,
    cache_hits: AtomicU64,
    locks_lost: AtomicU64,
    journal_appends: AtomicU64,
    journal_bytes: AtomicU64,
    checkpoints: AtomicU64,
    entries_folded: AtomicU64,
    checkpoint_failures: AtomicU64,
}

impl Counters {
    pub(crate) fn lock_acquired(&self, waited: Duration) {
        let waited_ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.lock_acquisitions.fetch_add(1, Ordering::Relaxed);
        self.lock_wait_total_ns.fetch_add(waited_ns, Ordering::Relaxed);
        self.lock_wait_max_ns.fetch_max(waited_ns, Ordering::Relaxed);
    }

    pub(crate) fn lock_timed_out(&self) {
        self.lock_timeouts.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn recovered(&self) {
        self.recoveries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn wrote(&self, bytes: usize) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.bytes_written.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn lock_lost(&self) {
        self.locks_lost.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn appended(&self, bytes: usize) {
        self.journal_appends.fetch_add(1, Ordering::Relaxed);
        self.journal_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn folded(&self, entries: u64) {
        self.entries_folded.fetch_add(entries, Ordering::Relaxed);
    }

    pub(crate) fn checkpointed(&self) {
        self.checkpoints.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn checkpoint_failed(&self) {
        self.checkpoint_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> StoreStats {
        StoreStats {
            lock_acquisitions: self.lock_acquisitions.load(Ordering::Relaxed),
            lock_wait_total: Duration::from_nanos(self.lock_wait_total_ns.load(Ordering::Relaxed)),
            lock_wait_max: Duration::from_nanos(self.lock_wait_max_ns.load(Ordering::Relaxed)),
            lock_timeouts: self.lock_timeouts.load(Ordering::Relaxed),
            recoveries: self.recoveries.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            bytes_written: self.bytes_written.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            locks_lost: self.locks_lost.load(Ordering::Relaxed),
            journal_appends: self.journal_appends.load(Ordering::Relaxed),
            journal_bytes: self.journal_bytes.load(Ordering::Relaxed),
            checkpoints: self.checkpoints.load(Ordering::Relaxed),
            entries_folded: self.entries_folded.load(Ordering::Relaxed),
            checkpoint_failures: self.checkpoint_failures.load(Ordering::Relaxed),
        }
    }
}
