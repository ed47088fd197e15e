//! 8 threads x 100 updates, on one shared handle and on a handle each: every update counted.

use std::sync::Arc;

use metrics_store::{Durability, MetricsStore};
use metrics_types::Limits;

use crate::support::{event, scratch, store};

const THREADS: usize = 8;
const UPDATES: usize = 100;

fn check(open_handle: impl Fn() -> Arc<MetricsStore> + Sync) {
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let handle = open_handle();
            scope.spawn(move || {
                for update in 0..UPDATES {
                    let agent = format!("agent-{}", thread % 3);
                    let _ =
                        handle.record_event(event(&format!("t{thread}-{update}"), &agent)).unwrap();
                }
            });
        }
    });
    let state = open_handle().load().unwrap().state;
    let total: u64 = state.agents().values().map(|profile| profile.total_invocations()).sum();
    assert_eq!(total, (THREADS * UPDATES) as u64, "no update lost");
    assert_eq!(state.events().len(), 500, "FIFO-evicted to the limit");
    let last_ids: Vec<&str> = state.events().iter().map(|e| e.event_id()).collect();
    let mut unique = last_ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), last_ids.len(), "no event stored twice");
}

#[test]
fn one_shared_handle() {
    let (_dir, path) = scratch();
    let shared = Arc::new(store(&path, Limits::DEFAULT, Durability::Full));
    check(|| shared.clone());
    let stats = shared.stats();
    assert_eq!(stats.writes, (THREADS * UPDATES) as u64);
    assert!(
        stats.cache_hits >= (THREADS * UPDATES) as u64 - 1,
        "one handle never re-reads its own writes: {stats:?}"
    );
}

#[test]
fn a_handle_per_thread() {
    let (_dir, path) = scratch();
    check(|| Arc::new(store(&path, Limits::DEFAULT, Durability::NoSyncTestsOnly)));
}

#[test]
fn deleting_the_lock_file_while_writers_run_loses_nothing() {
    // Issue 13: someone (a cleanup script, a user) deletes the lock file again and again
    // while 4 writers, each with its own handle (so its own lock file description), record
    // events. A holder whose lock file vanished must not commit beside a newcomer that
    // locked the new file: it starts its update again. Every acknowledged event must be in
    // the file at the end.
    let (_dir, path) = scratch();
    let (writers, per_writer) = (4, 50);
    let limits = Limits { max_events: 1000, max_sessions: 50 };
    let done = std::sync::atomic::AtomicBool::new(false);
    let lock_path = store(&path, limits, Durability::NoSyncTestsOnly).lock_path().to_owned();
    let deletions = std::thread::scope(|scope| {
        let deleter = scope.spawn(|| {
            let mut deletions = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                deletions += usize::from(std::fs::remove_file(&lock_path).is_ok());
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            deletions
        });
        // Whatever happens to the writers, the deleter stops (a panicking writer must fail
        // the test, not leave the deleter spinning and the scope waiting for it).
        struct StopOnDrop<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
        let stop = StopOnDrop(&done);
        let handles: Vec<_> = (0..writers)
            .map(|writer| {
                let path = path.clone();
                scope.spawn(move || {
                    let handle = store(&path, limits, Durability::NoSyncTestsOnly);
                    for idx in 0..per_writer {
                        // A write that fails was not acknowledged; like a harness, retry it
                        // (by id, so a retry is never counted twice). In one process, a
                        // newcomer's stale-file sweep may remove a temporary file of a
                        // holder whose lock file vanished: that holder's write fails.
                        let id = format!("w{writer}-{idx}");
                        let mut attempts = 0;
                        while let Err(err) = handle.record_event(event(&id, "a")) {
                            attempts += 1;
                            assert!(attempts < 20, "{id} keeps failing: {err}");
                        }
                    }
                    handle.stats().locks_lost
                })
            })
            .collect();
        let lost: u64 = handles.into_iter().map(|handle| handle.join().unwrap()).sum();
        drop(stop);
        (deleter.join().unwrap(), lost)
    });
    let state = store(&path, limits, Durability::NoSyncTestsOnly).load().unwrap().state;
    let missing: Vec<String> = (0..writers)
        .flat_map(|writer| (0..per_writer).map(move |idx| format!("w{writer}-{idx}")))
        .filter(|id| !state.contains_event(id))
        .collect();
    assert!(deletions.0 > 10, "the lock file was deleted {} times", deletions.0);
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost ({} restarts): {missing:?}",
        missing.len(),
        deletions.1
    );
    assert_eq!(state.agents()["a"].total_invocations(), (writers * per_writer) as u64);
}
