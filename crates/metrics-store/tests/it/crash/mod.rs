//! Crash consistency on the simulated disk (`atomic_fs::sim`): the store's updates, its
//! creation and its corruption recovery are crashed after every step, with every loss pattern
//! a real disk allows, and the store is reopened on what the disk holds.
//!
//! After every crash: the store opens without needing recovery (unless it was recovering
//! already), its state is exactly the acknowledged generation or the one in flight, the
//! backup is one generation behind or the same, nothing damaged is deleted, and the next
//! writer works and sweeps every temporary file. That next writer is crashed again at each of
//! its own steps (a crash during recovery), and the result checked the same way.
//!
//! A failure names the crash point and loss pattern; `AGENT_METRICS_CRASH_POINT=N` replays
//! only that point.
#![expect(clippy::disallowed_methods, reason = "scenarios plant damaged files directly")]

pub(crate) mod harness;
mod history;
mod journal;
mod mutants;

use atomic_fs::sim::Simulation;
use metrics_store::{Durability, MetricsStore};
use metrics_types::Limits;

use crate::support::{event, scratch, session, store};
pub(crate) use harness::is_temporary;
use harness::{ABSENT, Coverage, Depth, Expectation, acknowledge, check_crashes};

/// Runs `scenario` on a simulation of `dir` (set up by `configure`) with a store of the given
/// limits, acknowledging each successful write, and returns the simulation with the
/// generations written appended to `expect`.
fn run_with(
    dir: &std::path::Path,
    expect: &mut Expectation,
    limits: Limits,
    configure: impl FnOnce(&Simulation),
    scenario: impl FnOnce(&MetricsStore, &mut dyn FnMut()),
) -> std::sync::Arc<Simulation> {
    let path = dir.join(harness::MAIN);
    let simulation = Simulation::new(dir).unwrap();
    configure(&simulation);
    let installed = simulation.install();
    let handle =
        MetricsStore::builder(&path).project_name(harness::PROJECT).limits(limits).open().unwrap();
    let mut acknowledged = || {
        expect.generations.push(std::fs::read(&path).unwrap());
        acknowledge(&simulation, expect.generations.len() - 1);
    };
    scenario(&handle, &mut acknowledged);
    drop(installed);
    simulation
}

/// [`run_with`] with the default limits and an unchanged simulation.
fn run(
    dir: &std::path::Path,
    expect: &mut Expectation,
    scenario: impl FnOnce(&MetricsStore, &mut dyn FnMut()),
) -> std::sync::Arc<Simulation> {
    run_with(dir, expect, Limits::DEFAULT, |_| {}, scenario)
}

/// Checks every crash of a scenario, fully, and reports its coverage.
fn check_every_crash(name: &str, simulation: &Simulation, expect: &Expectation) -> Coverage {
    let coverage = check_crashes(simulation, expect, Depth::full())
        .unwrap_or_else(|violation| panic!("{name}: {violation}"));
    report(name, coverage);
    coverage
}

#[expect(clippy::print_stderr, reason = "the coverage of a run is worth seeing with --nocapture")]
fn report(name: &str, coverage: Coverage) {
    eprintln!(
        "{name}: {} crash points, {} distinct images reopened, {} images of a second crash \
         during the reopening write",
        coverage.crash_points, coverage.images, coverage.second_crash_images
    );
}

/// A store with two generations written durably on the real disk (the backup and the main
/// file), and the expectation that starts from them.
pub(crate) fn store_with_history() -> (tempfile::TempDir, Expectation) {
    let (dir, path) = scratch();
    let real = store(&path, Limits::DEFAULT, Durability::Full);
    let _ = real.record_event(event("e1", "coding")).unwrap();
    let _ = real.record_event(event("e2", "review")).unwrap();
    let generations =
        vec![std::fs::read(atomic_fs::backup_path(&path)).unwrap(), std::fs::read(&path).unwrap()];
    (dir, Expectation { generations, acknowledged_at_start: 1, damaged: None, kept: Vec::new() })
}

#[test]
fn every_crash_of_updates_is_survived() {
    let (dir, mut expect) = store_with_history();
    let simulation = run(dir.path(), &mut expect, |store, acknowledged| {
        let _ = store.record_event(event("e3", "coding")).unwrap();
        acknowledged();
        let _ = store.record_events(vec![event("e4", "coding"), event("e5", "testing")]).unwrap();
        acknowledged();
        let _ = store.record_session(session("s1")).unwrap();
        acknowledged();
    });
    let coverage = check_every_crash("three updates", &simulation, &expect);
    assert!(coverage.crash_points >= 30 && coverage.second_crash_images > 100, "{coverage:?}");
}

#[test]
fn every_crash_of_creating_a_store_is_survived() {
    let (dir, _) = scratch();
    let mut expect = Expectation {
        generations: vec![ABSENT.to_vec()],
        acknowledged_at_start: 0,
        damaged: None,
        kept: Vec::new(),
    };
    let simulation = run(dir.path(), &mut expect, |store, acknowledged| {
        store.create().unwrap();
        acknowledged();
        let _ = store.record_event(event("first", "coding")).unwrap();
        acknowledged();
    });
    let coverage = check_every_crash("create and first event", &simulation, &expect);
    assert!(coverage.images > 10, "{coverage:?}");
}

#[test]
fn every_crash_during_corruption_recovery_is_survived() {
    let (dir, history) = store_with_history();
    let path = dir.path().join(harness::MAIN);
    let damaged = b"{\"version\": 1, \"events\": [tr".to_vec();
    std::fs::write(&path, &damaged).unwrap();
    let backup = history.generations[0].clone();
    let mut expect = Expectation {
        generations: vec![backup],
        acknowledged_at_start: 0,
        damaged: Some(damaged),
        kept: Vec::new(),
    };
    let simulation = run(dir.path(), &mut expect, |store, acknowledged| {
        let recovery = store.recover().unwrap();
        assert!(recovery.is_some(), "the damaged file is recovered");
        acknowledged();
        let _ = store.record_event(event("after-recovery", "coding")).unwrap();
        acknowledged();
    });
    let coverage = check_every_crash("recovery from a damaged file", &simulation, &expect);
    assert!(coverage.images > 10, "{coverage:?}");
}

#[test]
fn every_crash_while_starting_afresh_is_survived() {
    // The file and its backup are both damaged: recovery keeps the file aside, moves the
    // backup aside, and starts from an empty state.
    let (dir, _) = store_with_history();
    let path = dir.path().join(harness::MAIN);
    let damaged = b"not json at all".to_vec();
    let damaged_backup = b"{\"version\": 1, \"events\": {}}".to_vec();
    std::fs::write(&path, &damaged).unwrap();
    std::fs::write(atomic_fs::backup_path(&path), &damaged_backup).unwrap();
    let mut expect = Expectation {
        generations: vec![ABSENT.to_vec()],
        acknowledged_at_start: 0,
        damaged: Some(damaged),
        kept: vec![damaged_backup],
    };
    let simulation = run(dir.path(), &mut expect, |store, acknowledged| {
        let recovery = store.recover().unwrap();
        assert!(
            matches!(
                recovery.map(|recovery| recovery.action),
                Some(metrics_store::RecoveryAction::StartedFresh { .. })
            ),
            "both files are unusable"
        );
        acknowledged();
        let _ = store.record_event(event("after-a-fresh-start", "coding")).unwrap();
        acknowledged();
    });
    let coverage =
        check_every_crash("starting afresh from two damaged files", &simulation, &expect);
    assert!(coverage.images > 10, "{coverage:?}");
}
