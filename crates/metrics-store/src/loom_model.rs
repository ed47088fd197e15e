//! Loom models of the write protocol: every interleaving of a few writers and a reader is
//! explored, not just the ones a stress run happens to hit. Run with `cargo xtask loom`.
//!
//! What runs for real: [`with_both_locks`] (the lock order and release of every store write,
//! `protocol.rs`) and the `sync` shim's mutex, which is loom's here. What is modelled, because
//! loom cannot see system calls:
//!
//! - the file lock (`atomic_fs::FileLock`, `flock(LOCK_EX | LOCK_NB)` retried until a timeout)
//!   is [`ModelFlock`]: one atomic compare-and-swap per attempt, a bounded number of attempts
//!   standing in for the timeout, released when its guard drops (`FileLock::drop`);
//! - the directory entry of the metrics file is [`Directory`]: a pointer to an immutable
//!   [`Generation`], swapped in one step as `rename(2)` does (`atomic_fs::replace` writes the
//!   whole temporary file before the rename), and read in one step as `open(2)` does;
//! - a store update (`MetricsStore::transact_locked`: read the current generation, apply the
//!   change, write the next generation) is [`increment`].
//!
//! - the handle's cache of the state it last wrote (`MetricsStore::current_state`): the model
//!   runs the real decision, `Cached::is_current`, on inode numbers drawn from a file system
//!   that recycles the lowest free inode ([`InodeTable`]), the worst case for an identity
//!   check. A handle keeps its cached generation open (registered in the table), as the store
//!   keeps the `File`; the mutant that does not is caught losing an update.
//!
//! The mutants at the end are protocols that must fail, and the tests assert that loom finds
//! the failure: a model that cannot fail proves nothing.

use loom::sync::atomic::{AtomicBool, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

use crate::protocol::with_both_locks;

/// One whole version of the file. `check` ties the fields together, so a generation made of
/// parts of two writes is detectable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Generation {
    number: u64,
    counter: u64,
    check: u64,
}

impl Generation {
    fn new(number: u64, counter: u64) -> Generation {
        Generation { number, counter, check: number * 1000 + counter }
    }

    /// The generation an update writes after this one.
    fn next(&self) -> Generation {
        Generation::new(self.number + 1, self.counter + 1)
    }

    fn is_whole(&self) -> bool {
        self.check == self.number * 1000 + self.counter
    }
}

/// The directory entry: which generation the path names.
struct Directory {
    current: Mutex<Arc<Generation>>,
}

impl Directory {
    fn new() -> Directory {
        Directory { current: Mutex::new(Arc::new(Generation::new(0, 0))) }
    }

    /// `open(2)` + read: the generation the path names at this instant.
    fn open(&self) -> Arc<Generation> {
        self.current.lock().unwrap().clone()
    }

    /// `rename(2)`: the path names the new generation, in one step.
    fn rename(&self, next: Generation) {
        *self.current.lock().unwrap() = Arc::new(next);
    }
}

/// `flock` on the lock file, as the kernel provides it: try-lock is one atomic step.
struct ModelFlock {
    held: AtomicBool,
}

struct FlockGuard<'a>(&'a ModelFlock);

impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        self.0.held.store(false, Ordering::Release);
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Failure {
    LockTimeout,
    Rejected,
}

impl ModelFlock {
    fn new() -> ModelFlock {
        ModelFlock { held: AtomicBool::new(false) }
    }

    /// `FileLock::lock`: up to `attempts` tries, yielding between them (the kernel's queue,
    /// abstracted to retries); then a timeout.
    fn lock(&self, attempts: usize) -> Result<FlockGuard<'_>, Failure> {
        for _ in 0..attempts {
            if self.held.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok()
            {
                return Ok(FlockGuard(self));
            }
            thread::yield_now();
        }
        Err(Failure::LockTimeout)
    }
}

/// The shared world: one lock file and one directory entry (the file system), seen by every
/// handle in every process.
struct World {
    flock: ModelFlock,
    dir: Directory,
}

/// One store handle: its in-process mutex (guarding the handle's cache, here the generation
/// it last wrote).
struct Handle {
    writer: Mutex<Option<Generation>>,
}

impl Handle {
    fn new() -> Arc<Handle> {
        Arc::new(Handle { writer: Mutex::new(None) })
    }
}

/// A store update: under both locks, read the current generation, add one, write the next.
/// `fail` makes the update function fail after reading (nothing may be written).
fn increment(world: &World, handle: &Handle, attempts: usize, fail: bool) -> Result<(), Failure> {
    with_both_locks(
        &handle.writer,
        || world.flock.lock(attempts),
        |cache, _guard| {
            let current = world.dir.open();
            assert!(current.is_whole(), "a writer read a torn generation");
            if fail {
                return Err(Failure::Rejected);
            }
            let next = current.next();
            world.dir.rename(next);
            *cache = Some(next);
            Ok(())
        },
    )
}

fn world() -> Arc<World> {
    Arc::new(World { flock: ModelFlock::new(), dir: Directory::new() })
}

/// Runs a model with a bounded number of preemptions (set `LOOM_MAX_PREEMPTIONS` to change).
fn model(test: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(test);
}

#[test]
fn loom_two_threads_and_a_process_lose_no_update() {
    model(|| {
        let world = world();
        let shared = Handle::new();
        let other_process = Handle::new();
        let threads: Vec<_> = [shared.clone(), shared, other_process]
            .into_iter()
            .map(|handle| {
                let world = world.clone();
                thread::spawn(move || increment(&world, &handle, usize::MAX, false).unwrap())
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(world.dir.open().counter, 3, "an update was lost");
        assert!(!world.flock.held.load(Ordering::Acquire), "the lock was left held");
    });
}

#[test]
fn loom_a_failing_update_writes_nothing_and_releases_both_locks() {
    model(|| {
        let world = world();
        let handle = Handle::new();
        let failing = {
            let (world, handle) = (world.clone(), handle.clone());
            thread::spawn(move || increment(&world, &handle, usize::MAX, true))
        };
        increment(&world, &handle, usize::MAX, false).unwrap();
        assert_eq!(failing.join().unwrap(), Err(Failure::Rejected));
        assert_eq!(world.dir.open().counter, 1, "only the successful update is written");
        assert!(!world.flock.held.load(Ordering::Acquire), "the file lock is released");
        assert!(handle.writer.try_lock().is_ok(), "the in-process lock is released");
    });
}

#[test]
fn loom_a_timed_out_writer_leaves_nothing_half_done() {
    model(|| {
        let world = world();
        let impatient = {
            let world = world.clone();
            thread::spawn(move || increment(&world, &Handle::new(), 1, false))
        };
        increment(&world, &Handle::new(), usize::MAX, false).unwrap();
        let outcome = impatient.join().unwrap();
        let counter = world.dir.open().counter;
        match outcome {
            Ok(()) => assert_eq!(counter, 2),
            Err(failure) => {
                assert_eq!(failure, Failure::LockTimeout);
                assert_eq!(counter, 1, "the writer that gave up wrote nothing");
            }
        }
        assert!(!world.flock.held.load(Ordering::Acquire));
    });
}

#[test]
fn loom_a_reader_sees_whole_generations_that_never_go_backwards() {
    model(|| {
        let world = world();
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let world = world.clone();
                thread::spawn(move || increment(&world, &Handle::new(), usize::MAX, false).unwrap())
            })
            .collect();
        // The reader takes no lock, as `MetricsStore::load` takes none.
        let first = world.dir.open();
        let second = world.dir.open();
        assert!(first.is_whole() && second.is_whole(), "a torn read");
        assert!(second.number >= first.number, "generations went backwards");
        for writer in writers {
            writer.join().unwrap();
        }
    });
}

// Mutants: each must be caught.

/// The Python seed's original bug: check whether the lock is taken, then take it, in two
/// steps with a gap between.
fn check_then_take(world: &World) -> Option<FlockGuard<'_>> {
    if world.flock.held.load(Ordering::Acquire) {
        return None;
    }
    world.flock.held.store(true, Ordering::Release);
    Some(FlockGuard(&world.flock))
}

#[test]
#[should_panic(expected = "an update was lost")]
fn loom_mutant_check_then_take_lock_loses_updates() {
    model(|| {
        let world = world();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let world = world.clone();
                thread::spawn(move || {
                    let handle = Handle::new();
                    with_both_locks(
                        &handle.writer,
                        || check_then_take(&world).ok_or(()),
                        |_, _| {
                            let current = world.dir.open();
                            world.dir.rename(current.next());
                            Ok::<_, ()>(())
                        },
                    )
                    .is_ok()
                })
            })
            .collect();
        let succeeded = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
        // When both see the lock free, both "hold" it and one increment overwrites the other.
        assert_eq!(world.dir.open().counter, succeeded as u64, "an update was lost");
    });
}

#[test]
#[should_panic(expected = "an update was lost")]
fn loom_mutant_write_without_the_lock_loses_updates() {
    model(|| {
        let world = world();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let world = world.clone();
                thread::spawn(move || {
                    let current = world.dir.open();
                    world.dir.rename(current.next());
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(world.dir.open().counter, 2, "an update was lost");
    });
}

/// Writing the file in place (no temporary file and rename): a reader can open it between the
/// two halves of the write.
#[test]
#[should_panic(expected = "a torn read")]
fn loom_mutant_write_in_place_tears_reads() {
    model(|| {
        // The file's three fields, overwritten one after the other where they are.
        let fields = Arc::new([0u64; 3].map(loom::sync::atomic::AtomicU64::new));
        let writer = {
            let fields = fields.clone();
            thread::spawn(move || {
                let next = Generation::new(0, 0).next();
                for (field, value) in fields.iter().zip([next.number, next.counter, next.check]) {
                    field.store(value, Ordering::Release);
                }
            })
        };
        let [number, counter, check] = [0, 1, 2].map(|idx| fields[idx].load(Ordering::Acquire));
        writer.join().unwrap();
        let read = Generation { number, counter, check };
        assert!(read == Generation::new(0, 0) || read.is_whole(), "a torn read");
    });
}

/// The inode numbers of a file system that recycles the lowest free one. A number is in use
/// while the path names that generation or some handle holds it open.
struct InodeTable {
    /// Open inodes, one entry per open descriptor.
    open: Mutex<Vec<u64>>,
}

/// A generation with the inode it was written to.
#[derive(Clone, Copy)]
struct Stored {
    inode: u64,
    counter: u64,
}

/// The file system for the cache model: the directory entry and the inode table.
struct CacheWorld {
    flock: ModelFlock,
    entry: Mutex<Stored>,
    inodes: InodeTable,
}

/// A handle whose cache is the generation it last wrote, held open unless `holds_file` is
/// false (the mutant).
struct CachingHandle {
    cache: Mutex<Option<Stored>>,
    holds_file: bool,
}

/// `MetricsStore::transact_locked` for one update, with the real cache decision.
fn cached_increment(world: &CacheWorld, handle: &CachingHandle) {
    with_both_locks(
        &handle.cache,
        || world.flock.lock(usize::MAX),
        |cache, _guard| {
            let now = *world.entry.lock().unwrap();
            let cached = cache.take();
            let counter = match cached {
                Some(cached)
                    if crate::store::Cached::is_current(Some(now.inode), &cached.inode) =>
                {
                    cached.counter
                }
                _ => now.counter,
            };
            let mut open = world.inodes.open.lock().unwrap();
            // The old cache entry's file is closed once the new generation replaces it.
            if handle.holds_file
                && let Some(cached) = cached
                && let Some(idx) = open.iter().position(|inode| *inode == cached.inode)
            {
                open.swap_remove(idx);
            }
            // The lowest inode neither named by the path nor held open anywhere.
            let inode = (1..).find(|n| *n != now.inode && !open.contains(n)).unwrap();
            let next = Stored { inode, counter: counter + 1 };
            *world.entry.lock().unwrap() = next;
            if handle.holds_file {
                open.push(inode);
            }
            *cache = Some(next);
            Ok::<(), Failure>(())
        },
    )
    .unwrap();
}

fn run_cache_model(holds_file: bool) {
    model(move || {
        let world = Arc::new(CacheWorld {
            flock: ModelFlock::new(),
            entry: Mutex::new(Stored { inode: 1, counter: 0 }),
            inodes: InodeTable { open: Mutex::new(Vec::new()) },
        });
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let world = world.clone();
                let handle = Arc::new(CachingHandle { cache: Mutex::new(None), holds_file });
                thread::spawn(move || {
                    cached_increment(&world, &handle);
                    cached_increment(&world, &handle);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(world.entry.lock().unwrap().counter, 4, "an update was lost");
    });
}

#[test]
fn loom_the_cache_holding_its_file_never_reuses_a_stale_state() {
    run_cache_model(true);
}

/// A cache that compares identities but lets its file close: the inode is recycled by a
/// later generation, the identity matches, and a stale state is written over it.
#[test]
#[should_panic(expected = "an update was lost")]
fn loom_mutant_cache_without_its_file_open_loses_updates() {
    run_cache_model(false);
}

// Journal mode (`journal.rs`): appends and checkpoints under the lock, readers without it.
//
// The journal and the file are each a directory entry naming an immutable version, replaced
// or read in one step: a checkpoint's `rename` is one step, and an append is one step too
// (a reader that sees part of a record ignores it as a torn tail, the same as not seeing it).
// What runs for real is again `with_both_locks`; the rest is the protocol of `journal.rs` in
// miniature: a record is (sequence, event) and the marker is `None`, the file holds its
// events and its watermark, a checkpoint folds the records above the watermark, writes the
// file, and only then replaces the journal by the marker and the records it just folded.

/// The data file in journal mode: its events and the last journal sequence it holds.
#[derive(Debug, Clone, Default)]
struct Snapshot {
    watermark: u64,
    events: Vec<u64>,
}

/// The journal: `(sequence, event)`, the first record the marker (`None`).
#[derive(Debug, Clone)]
struct JournalFile {
    records: Vec<(u64, Option<u64>)>,
}

struct JournalWorld {
    /// The file lock, waited for in the kernel's queue as `FileLock::lock` does (a blocking
    /// lock here: four threads spinning on try-locks exceed loom's budget).
    flock: Mutex<()>,
    snapshot: Mutex<Arc<Snapshot>>,
    journal: Mutex<Arc<JournalFile>>,
}

impl JournalWorld {
    /// A store whose file is empty at watermark 0 and whose journal holds event 100,
    /// acknowledged, at sequence 1.
    fn new() -> Arc<JournalWorld> {
        let journal = JournalFile { records: vec![(0, None), (1, Some(100))] };
        Arc::new(JournalWorld {
            flock: Mutex::new(()),
            snapshot: Mutex::new(Arc::new(Snapshot::default())),
            journal: Mutex::new(Arc::new(journal)),
        })
    }

    fn read_snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.lock().unwrap().clone()
    }

    fn read_journal(&self) -> Arc<JournalFile> {
        self.journal.lock().unwrap().clone()
    }
}

/// The file plus the journal records above its watermark, each event once.
fn fold(snapshot: &Snapshot, journal: &JournalFile) -> Vec<u64> {
    let mut events = snapshot.events.clone();
    for (sequence, event) in &journal.records {
        if let Some(event) = event
            && *sequence > snapshot.watermark
        {
            assert!(!events.contains(event), "event {event} applied twice");
            events.push(*event);
        }
    }
    events
}

/// `append_events_locked`: one record after the last, under both locks.
fn journal_append(world: &JournalWorld, handle: &Handle, event: u64) {
    with_both_locks(
        &handle.writer,
        || Ok::<_, Failure>(world.flock.lock().unwrap()),
        |_, _guard| {
            let journal = world.read_journal();
            let next = journal.records.last().map_or(1, |(sequence, _)| sequence + 1);
            let mut appended = (*journal).clone();
            appended.records.push((next, Some(event)));
            *world.journal.lock().unwrap() = Arc::new(appended);
            Ok(())
        },
    )
    .unwrap();
}

/// A checkpoint: fold, write the file, then (only then) the fresh journal: the marker and
/// the records just folded. `journal_first` is the mutant that empties the journal (the
/// marker alone) before writing the file.
fn journal_checkpoint(world: &JournalWorld, handle: &Handle, journal_first: bool) {
    with_both_locks(
        &handle.writer,
        || Ok::<_, Failure>(world.flock.lock().unwrap()),
        |_, _guard| {
            let (snapshot, journal) = (world.read_snapshot(), world.read_journal());
            let last = journal.records.last().map_or(0, |(sequence, _)| *sequence);
            if last <= snapshot.watermark {
                return Ok(());
            }
            let folded = Snapshot { watermark: last, events: fold(&snapshot, &journal) };
            let retained =
                journal.records.iter().filter(|(sequence, _)| *sequence > snapshot.watermark);
            let mut fresh = vec![(snapshot.watermark, None)];
            fresh.extend(retained.copied());
            let fresh = JournalFile { records: fresh };
            if journal_first {
                let emptied = JournalFile { records: vec![(last, None)] };
                *world.journal.lock().unwrap() = Arc::new(emptied);
                *world.snapshot.lock().unwrap() = Arc::new(folded);
            } else {
                *world.snapshot.lock().unwrap() = Arc::new(folded);
                *world.journal.lock().unwrap() = Arc::new(fresh);
            }
            Ok(())
        },
    )
    .unwrap();
}

/// Two writers append while a third checkpoints twice; a reader without the lock reads the
/// journal and the file in `order` and must see every event acknowledged before it started.
fn run_journal_model(reader_reads_journal_first: bool, checkpoint_journal_first: bool) {
    model(move || {
        let world = JournalWorld::new();
        let acknowledged = Arc::new(loom::sync::atomic::AtomicU64::new(0));
        let writers: Vec<_> = [200u64, 300]
            .into_iter()
            .enumerate()
            .map(|(bit, event)| {
                let (world, acknowledged) = (world.clone(), acknowledged.clone());
                thread::spawn(move || {
                    journal_append(&world, &Handle::new(), event);
                    acknowledged.fetch_or(1 << bit, Ordering::Release);
                })
            })
            .collect();
        let checkpointer = {
            let world = world.clone();
            thread::spawn(move || {
                let handle = Handle::new();
                journal_checkpoint(&world, &handle, checkpoint_journal_first);
                journal_checkpoint(&world, &handle, checkpoint_journal_first);
            })
        };

        let before = acknowledged.load(Ordering::Acquire);
        let seen = if reader_reads_journal_first {
            let journal = world.read_journal();
            fold(&world.read_snapshot(), &journal)
        } else {
            let snapshot = world.read_snapshot();
            fold(&snapshot, &world.read_journal())
        };
        assert!(seen.contains(&100), "the event acknowledged before the read is missing");
        for (bit, event) in [(0, 200u64), (1, 300)] {
            if before & (1 << bit) != 0 {
                assert!(seen.contains(&event), "acknowledged event {event} is missing");
            }
        }

        for writer in writers {
            writer.join().unwrap();
        }
        checkpointer.join().unwrap();
        let mut last = fold(&world.read_snapshot(), &world.read_journal());
        last.sort_unstable();
        assert_eq!(last, [100, 200, 300], "every acknowledged event, once");
    });
}

#[test]
fn loom_journal_two_appenders_and_a_checkpointer_lose_nothing_for_a_reader() {
    run_journal_model(true, false);
}

#[test]
#[should_panic(expected = "missing")]
fn loom_mutant_journal_reader_reading_the_file_first_misses_an_entry() {
    run_journal_model(false, false);
}

#[test]
#[should_panic(expected = "missing")]
fn loom_mutant_journal_emptied_before_the_file_is_written_loses_an_entry() {
    run_journal_model(true, true);
}
