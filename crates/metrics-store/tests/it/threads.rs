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
