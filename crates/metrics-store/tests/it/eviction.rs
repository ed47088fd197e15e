//! Eviction at the boundaries, through the store: 499, 500, 501 events; 50, 51 sessions.

use metrics_store::Durability;
use metrics_types::Limits;

use crate::support::{event, scratch, session, store};

fn check_events(recorded: usize, expect_kept: usize, expect_first: &str) {
    let (_dir, path) = scratch();
    let store = store(&path, Limits::DEFAULT, Durability::NoSyncTestsOnly);
    let events = (0..recorded).map(|idx| event(&format!("e{idx}"), "a")).collect();
    let outcome = store.record_events(events).unwrap();
    assert_eq!(outcome.evicted, recorded - expect_kept);
    let state = store.load().unwrap().state;
    assert_eq!(state.events().len(), expect_kept);
    assert_eq!(state.events()[0].event_id(), expect_first);
    assert_eq!(
        state.agents()["a"].total_invocations(),
        recorded as u64,
        "lifetime totals survive eviction"
    );
}

#[test]
fn events_at_the_limit() {
    check_events(499, 499, "e0");
    check_events(500, 500, "e0");
    check_events(501, 500, "e1");
}

#[test]
fn sessions_at_the_limit() {
    for (recorded, kept, first) in [(50, 50, "s0"), (51, 50, "s1")] {
        let (_dir, path) = scratch();
        let store = store(&path, Limits::DEFAULT, Durability::NoSyncTestsOnly);
        for idx in 0..recorded {
            let _ = store.record_session(session(&format!("s{idx}"))).unwrap();
        }
        let state = store.load().unwrap().state;
        assert_eq!(state.sessions().len(), kept);
        assert_eq!(state.sessions()[0].session_id(), first);
        assert_eq!(state.total_sessions(), recorded as u64);
    }
}

#[test]
fn lowering_the_limits_evicts_on_the_next_update() {
    let (_dir, path) = scratch();
    let wide = store(&path, Limits::DEFAULT, Durability::NoSyncTestsOnly);
    let _ =
        wide.record_events((0..20).map(|idx| event(&format!("e{idx}"), "a")).collect()).unwrap();
    let narrow =
        store(&path, Limits { max_events: 5, max_sessions: 5 }, Durability::NoSyncTestsOnly);
    assert_eq!(
        narrow.load().unwrap().state.events().len(),
        20,
        "a file over the limits is not damaged"
    );
    let _ = narrow.record_event(event("e0", "a")).unwrap();
    let state = narrow.load().unwrap().state;
    assert_eq!(
        state.events().len(),
        5,
        "the duplicate changed nothing, but the eviction was written"
    );
    assert_eq!(state.events()[0].event_id(), "e15");
}
