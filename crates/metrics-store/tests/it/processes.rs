//! Real OS processes writing one store while this process reads it: every update counted,
//! every event present once or evicted oldest-first, the file valid at every read.

use std::sync::atomic::{AtomicBool, Ordering};

use metrics_store::MetricsStore;
use metrics_types::Limits;

use crate::child::spawn_writer;
use crate::support::scratch;

#[test]
fn four_processes_lose_nothing() {
    let (_dir, path) = scratch();
    let (writers, per_writer) = (4, 50);
    let reader_store = MetricsStore::builder(&path)
        .limits(Limits { max_events: 150, max_sessions: 50 })
        .open()
        .unwrap();
    let done = AtomicBool::new(false);
    let reads = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let loaded = reader_store.load().expect("every read is a valid state");
                assert!(loaded.fallback.is_none(), "nothing was ever damaged");
                reads += 1;
            }
            reads
        });
        let children: Vec<_> =
            (0..writers).map(|w| spawn_writer(&path, &format!("w{w}"), per_writer)).collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        done.store(true, Ordering::Relaxed);
        reader.join().unwrap()
    });
    assert!(reads > 0);

    let state = MetricsStore::open(&path).unwrap().load().unwrap().state;
    for w in 0..writers {
        let profile = &state.agents()[&format!("w{w}")];
        assert_eq!(profile.total_invocations(), per_writer as u64, "w{w}: every update counted");
    }
    // Each writer's surviving events are its latest ones, in order: eviction is FIFO.
    for w in 0..writers {
        let prefix = format!("w{w}-");
        let kept: Vec<usize> = state
            .events()
            .iter()
            .filter_map(|event| event.event_id().strip_prefix(&prefix)?.parse().ok())
            .collect();
        let expected: Vec<usize> = (per_writer - kept.len()..per_writer).collect();
        assert_eq!(kept, expected, "w{w}");
    }
    assert_eq!(state.events().len(), writers * per_writer, "500 is more than 200: nothing evicted");
}
