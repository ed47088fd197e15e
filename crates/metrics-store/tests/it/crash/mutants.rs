//! Proof that the crash suite can fail: each lie of the simulated disk that stands for a bug
//! in the replace protocol (`atomic_fs::sim::Lie::REPLACE_BUGS`) is caught at a named crash
//! point, while the real protocol under the same faults passes.

use atomic_fs::sim::{CallKind, Fault, FaultKind, Lie, Persistence, Simulation};
use metrics_types::Limits;

use super::harness::{Coverage, Depth, Violation, check_crashes};
use super::{run_with, store_with_history};
use crate::support::event;

/// Three updates (errors tolerated: only successes are acknowledged) with `lie` and
/// `fault`, then every crash checked.
fn updates_with(lie: Option<Lie>, fault: Option<Fault>) -> Result<Coverage, Violation> {
    let (dir, mut expect) = store_with_history();
    let configure = |simulation: &Simulation| {
        simulation.set_lie(lie);
        if let Some(fault) = fault {
            simulation.inject(fault);
        }
    };
    let simulation =
        run_with(dir.path(), &mut expect, Limits::DEFAULT, configure, |store, acknowledged| {
            for id in ["m1", "m2", "m3"] {
                if store.record_event(event(id, "coding")).is_ok() {
                    acknowledged();
                }
            }
        });
    check_crashes(&simulation, &expect, Depth { second_crash: false, ..Depth::full() })
}

/// A failed flush of the first update's new file: the call number of its `fdatasync`.
fn failed_first_flush() -> Fault {
    let (dir, mut expect) = store_with_history();
    let simulation = run_with(
        dir.path(),
        &mut expect,
        Limits::DEFAULT,
        |_| {},
        |store, _| {
            let _ = store.record_event(event("m1", "coding")).unwrap();
        },
    );
    let call = simulation.calls().into_iter().find(|call| call.kind == CallKind::SyncFile);
    Fault { call: call.unwrap().number, kind: FaultKind::Eio, persistence: Persistence::Once }
}

#[test]
fn the_real_protocol_passes_with_and_without_a_failed_flush() {
    updates_with(None, None).unwrap_or_else(|violation| panic!("{violation}"));
    updates_with(None, Some(failed_first_flush()))
        .unwrap_or_else(|violation| panic!("{violation}"));
}

#[test]
#[expect(clippy::print_stderr, reason = "where each lie is caught is worth seeing")]
fn every_lie_standing_for_a_replace_bug_is_caught_at_a_named_crash_point() {
    for lie in Lie::REPLACE_BUGS {
        let fault = lie.needs_a_failed_flush().then(failed_first_flush);
        let violation = match updates_with(Some(lie), fault) {
            Ok(coverage) => panic!("{lie:?} survived {coverage:?}"),
            Err(violation) => violation,
        };
        assert!(violation.crash.starts_with("crash point "), "{lie:?}: {violation}");
        eprintln!("{lie:?} caught: {violation}");
    }
}
