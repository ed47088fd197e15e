//! Crash consistency of journal mode (issue 15): appends, checkpoints triggered by the
//! threshold, whole-file writes that fold the journal, and explicit checkpoints are crashed
//! after every step, under every loss pattern the simulated disk allows.
//!
//! On every image: a reader loads without error and without damage (a crash leaves at most a
//! torn tail); the state it builds is the acknowledged one or that plus the write in flight;
//! no entry the file already holds is applied on top of it again (the watermark works, not
//! only the id check); and the next writer records an event and cuts any torn tail, and the
//! next checkpoint leaves no temporary file.
//!
//! The suite is shown able to fail: the disk lying about a journal flush
//! ([`Lie::AppendsAreNotFlushed`]) loses an acknowledged entry; a checkpoint that empties the
//! journal before writing the file loses entries; one that does not move the watermark
//! applies entries twice. The two checkpoint mutants are written here against the public
//! `atomic-fs` API (the store's code carries no mutant switches).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use atomic_fs::sim::{CrashImage, Lie, Simulation, StepKind};
use atomic_fs::{Backup, ReplaceConfig};
use metrics_store::{CheckpointPolicy, Durability, MetricsStore};
use metrics_types::{DashboardState, JournalEntry, Limits, StorageMode};

use super::harness::{MAIN, is_temporary};
use crate::support::{event, scratch, session};

const JOURNAL: &str = ".agent_metrics.journal";

/// A reader's view: the event ids and session ids, in order, and the invocations counted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    events: Vec<String>,
    sessions: Vec<String>,
    invocations: u64,
}

fn view(state: &DashboardState) -> View {
    View {
        events: state.events().iter().map(|event| event.event_id().to_owned()).collect(),
        sessions: state.sessions().iter().map(|session| session.session_id().to_owned()).collect(),
        invocations: state.agents().values().map(|profile| profile.total_invocations()).sum(),
    }
}

fn open(path: &Path, max_entries: usize, durability: Durability) -> MetricsStore {
    MetricsStore::builder(path)
        .project_name("crash")
        .durability(durability)
        .checkpoint_policy(CheckpointPolicy { max_entries, max_age: Duration::from_secs(3600) })
        .open()
        .unwrap()
}

/// A journal-mode store on the real disk with one checkpoint behind it and one entry in
/// its journal.
fn journal_store() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = scratch();
    let store = open(&path, 64, Durability::Full);
    store.set_storage_mode(StorageMode::Journal).unwrap();
    let _ = store.record_event(event("old-1", "coding")).unwrap();
    let _ = store.checkpoint().unwrap();
    let _ = store.record_event(event("old-2", "review")).unwrap();
    (dir, path)
}

/// One step of a scenario; returns whether it succeeded (and so was acknowledged).
type Step<'a> = Box<dyn Fn(&MetricsStore, &Path) -> bool + 'a>;

/// Runs `steps` on a simulation of the store's directory and returns it with the view
/// acknowledged after each successful step (the first: before any).
fn run(
    dir: &Path,
    max_entries: usize,
    configure: impl FnOnce(&Simulation),
    steps: &[Step<'_>],
) -> (Arc<Simulation>, Vec<View>) {
    let path = dir.join(MAIN);
    let simulation = Simulation::new(dir).unwrap();
    configure(&simulation);
    let installed = simulation.install();
    let store = open(&path, max_entries, Durability::Full);
    let mut views = vec![view(&store.load().unwrap().state)];
    for step in steps {
        if step(&store, &path) {
            views.push(view(&store.load().unwrap().state));
            simulation.mark(&format!("acknowledged generation {}", views.len() - 1));
        }
    }
    drop(installed);
    simulation.check_page_cache().unwrap();
    (simulation, views)
}

/// Checks every image of every crash; `Err` names the first crash that broke a guarantee.
fn check(simulation: &Simulation, views: &[View]) -> Result<usize, String> {
    let mut acknowledged = 0;
    let mut images = 0;
    for crash in simulation.crashes() {
        if let Some(StepKind::Mark { label }) = crash.after.as_ref().map(|step| &step.kind)
            && let Some(generation) = label.strip_prefix("acknowledged generation ")
        {
            acknowledged = generation.parse().unwrap();
        }
        for image in &crash.images {
            images += 1;
            check_image(image, views, acknowledged).map_err(|problem| {
                let after =
                    crash.after.as_ref().map_or("the start".to_owned(), ToString::to_string);
                format!(
                    "crash point {} (after {after}) with {}: {problem}",
                    crash.point, image.pattern
                )
            })?;
        }
    }
    Ok(images)
}

fn check_image(image: &CrashImage, views: &[View], acknowledged: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
    image.materialize(dir.path()).map_err(|err| err.to_string())?;
    let path = dir.path().join(MAIN);
    let reader = open(&path, 64, Durability::NoSyncTestsOnly);
    let loaded = reader.load().map_err(|err| format!("a reader cannot load: {err}"))?;
    if let Some(report) = &loaded.journal
        && !(report.problems.is_empty() && report.refused.is_empty())
    {
        return Err(format!("a crash left a damaged journal: {report:?}"));
    }
    let found = view(&loaded.state);
    let allowed = &views[acknowledged..views.len().min(acknowledged + 2)];
    if !allowed.contains(&found) {
        return Err(format!(
            "a reader builds {found:?}; acknowledged {:?}{}",
            views[acknowledged],
            views
                .get(acknowledged + 1)
                .map_or(String::new(), |next| format!(", in flight {next:?}"))
        ));
    }
    if loaded.fallback.is_none() {
        applied_at_most_once(&path, &dir.path().join(JOURNAL))?;
    }

    let writer = open(&path, 64, Durability::NoSyncTestsOnly);
    let _ = writer
        .record_event(event("after-the-crash", "reopened"))
        .map_err(|err| format!("the next writer fails: {err}"))?;
    let after = writer.load().map_err(|err| err.to_string())?;
    let mut expected = found.events.clone();
    expected.push("after-the-crash".to_owned());
    if view(&after.state).events != expected {
        return Err(format!(
            "the next write gives {:?}, not {expected:?}",
            view(&after.state).events
        ));
    }
    if after.journal.as_ref().is_some_and(|report| report.torn_tail.is_some()) {
        return Err("the next writer left the torn tail".to_owned());
    }
    // Appends leave stale temporary files of a crashed checkpoint to the next checkpoint.
    let _ = writer.checkpoint().map_err(|err| format!("the next checkpoint fails: {err}"))?;
    let leftovers: Vec<String> =
        crate::support::names(dir.path()).into_iter().filter(|name| is_temporary(name)).collect();
    if !leftovers.is_empty() {
        return Err(format!("temporary files survived the next checkpoint: {leftovers:?}"));
    }
    Ok(())
}

/// No entry above the file's watermark holds an event the file already has: such an entry
/// was folded and would be applied a second time (saved only by the id check).
fn applied_at_most_once(path: &Path, journal: &Path) -> Result<(), String> {
    let file = DashboardState::load(&std::fs::read(path).map_err(|err| err.to_string())?)
        .map_err(|err| err.to_string())?;
    let watermark = file.storage().journal_sequence;
    let Some(journal) =
        atomic_fs::journal::read_journal(journal, u64::MAX).map_err(|err| err.to_string())?
    else {
        return Ok(());
    };
    for record in journal.records.iter().filter(|record| record.sequence > watermark) {
        let entry = JournalEntry::from_json(&record.payload).map_err(|err| err.to_string())?;
        if let Some(id) = entry.event_ids().into_iter().find(|id| file.contains_event(id)) {
            return Err(format!(
                "entry {} (event {id}) is above the watermark {watermark} but already in the file: \
                 it would be applied twice",
                record.sequence
            ));
        }
    }
    Ok(())
}

fn record<'a>(id: &'a str) -> Step<'a> {
    Box::new(move |store, _| store.record_event(event(id, "coding")).is_ok())
}

#[test]
fn every_crash_of_appends_and_checkpoints_is_survived() {
    let (dir, _) = journal_store();
    let steps: Vec<Step<'_>> = vec![
        record("j1"),
        Box::new(|store, _| {
            store.record_events(vec![event("j2", "review"), event("j3", "testing")]).is_ok()
        }),
        record("j1"),
        // The third entry above the watermark: the writer checkpoints after appending it.
        record("j4"),
        Box::new(|store, _| store.record_session(session("s1")).is_ok()),
        record("j5"),
        Box::new(|store, _| store.checkpoint().is_ok()),
        record("j6"),
    ];
    let (simulation, views) = run(dir.path(), 3, |_| {}, &steps);
    assert_eq!(views.last().unwrap().events.len(), 8, "{views:?}");
    let images = check(&simulation, &views).unwrap_or_else(|violation| panic!("{violation}"));
    assert!(images > 100, "{images} images");
}

#[test]
fn a_disk_that_does_not_flush_appends_loses_an_acknowledged_entry_and_is_caught() {
    let (dir, _) = journal_store();
    let steps: Vec<Step<'_>> = vec![record("j1"), record("j2")];
    let (simulation, views) =
        run(dir.path(), 64, |sim| sim.set_lie(Some(Lie::AppendsAreNotFlushed)), &steps);
    let violation = check(&simulation, &views).expect_err("an unflushed append must be caught");
    assert!(violation.contains("a reader builds"), "{violation}");
}

/// The state the journal and the file give, folded, as a checkpoint computes it.
fn folded_state(path: &Path) -> (DashboardState, Vec<atomic_fs::journal::JournalRecord>) {
    let mut state = DashboardState::load(&std::fs::read(path).unwrap()).unwrap();
    let journal =
        atomic_fs::journal::read_journal(&path.with_file_name(JOURNAL), u64::MAX).unwrap().unwrap();
    let entries = journal
        .records
        .iter()
        .map(|record| (record.sequence, JournalEntry::from_json(&record.payload).unwrap()));
    let _ = state.fold_journal(entries, &Limits::DEFAULT);
    (state, journal.records)
}

fn journal_of(marker_sequence: u64, state: &DashboardState) -> Vec<u8> {
    atomic_fs::journal::encode_record(
        marker_sequence,
        &JournalEntry::checkpoint_of(state).to_json(),
    )
    .unwrap()
}

const DURABLE: ReplaceConfig =
    ReplaceConfig { durability: atomic_fs::Durability::Full, backup: Backup::None };

#[test]
fn a_checkpoint_that_empties_the_journal_before_the_file_is_written_is_caught() {
    let (dir, _) = journal_store();
    let mutant: Step<'_> = Box::new(|_, path| {
        let (state, records) = folded_state(path);
        let last = records.last().unwrap().sequence;
        // The bug: the journal first (emptied, durably), the file after.
        atomic_fs::replace(&path.with_file_name(JOURNAL), &journal_of(last, &state), &DURABLE)
            .unwrap();
        let file = ReplaceConfig { backup: Backup::PreviousGeneration, ..DURABLE };
        atomic_fs::replace(path, &state.to_json(), &file).is_ok()
    });
    let steps: Vec<Step<'_>> = vec![record("j1"), record("j2"), mutant, record("j3")];
    let (simulation, views) = run(dir.path(), 64, |_| {}, &steps);
    let violation =
        check(&simulation, &views).expect_err("emptying the journal first must be caught");
    // Caught either as a reader's state missing acknowledged events, or, before that, by the
    // reader itself: the checkpoint marker names ids found nowhere (issue 24).
    assert!(
        violation.contains("a reader builds") || violation.contains("in neither the file"),
        "{violation}"
    );
}

#[test]
fn a_checkpoint_that_does_not_move_the_watermark_is_caught() {
    let (dir, _) = journal_store();
    let mutant: Step<'_> = Box::new(|_, path| {
        let (mut state, records) = folded_state(path);
        let old = DashboardState::load(&std::fs::read(path).unwrap()).unwrap().storage();
        // The bug: the file is written with the folded state but its old watermark.
        state.set_storage(old);
        let file = ReplaceConfig { backup: Backup::PreviousGeneration, ..DURABLE };
        atomic_fs::replace(path, &state.to_json(), &file).unwrap();
        let mut journal = journal_of(old.journal_sequence, &state);
        for record in records.iter().filter(|record| record.sequence > old.journal_sequence) {
            journal.extend(
                atomic_fs::journal::encode_record(record.sequence, &record.payload).unwrap(),
            );
        }
        atomic_fs::replace(&path.with_file_name(JOURNAL), &journal, &DURABLE).is_ok()
    });
    let steps: Vec<Step<'_>> = vec![record("j1"), mutant, record("j2")];
    let (simulation, views) = run(dir.path(), 64, |_| {}, &steps);
    let violation = check(&simulation, &views).expect_err("a watermark left behind must be caught");
    assert!(violation.contains("applied twice"), "{violation}");
}

/// Records "x" through a fresh handle on a simulation of `dir` with `fault`; the store holds
/// one entry above its watermark and checkpoints at two, so the commit appends and then
/// checkpoints. Returns the calls made, the result, and whether the handle still writes.
fn journal_commit_with(
    dir: &Path,
    fault: Option<atomic_fs::sim::Fault>,
) -> (Vec<atomic_fs::sim::SeamCall>, Result<(), metrics_store::StoreError>, bool) {
    let simulation = Simulation::new(dir).unwrap();
    if let Some(fault) = fault {
        simulation.inject(fault);
    }
    let installed = simulation.install();
    let store = open(&dir.join(MAIN), 2, Durability::Full);
    let result = store.record_event(event("x", "coding")).map(drop);
    simulation.clear_faults();
    // After a failed flush the handle must refuse to write (probed only then, so that the
    // probe adds nothing to the states checked).
    let flush_failed = matches!(&result, Err(metrics_store::StoreError::Io { source, .. }) if source.is_sync_failure());
    let poisoned = !flush_failed
        || matches!(
            store.record_event(event("y", "coding")),
            Err(metrics_store::StoreError::Poisoned { .. })
        );
    drop(installed);
    simulation.check_page_cache().unwrap();
    (simulation.calls(), result, poisoned)
}

fn copy_of(template: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in crate::support::names(template) {
        std::fs::copy(template.join(&name), dir.path().join(&name)).unwrap();
    }
    dir
}

#[test]
fn every_injected_error_in_a_journal_commit_is_typed_and_loses_nothing() {
    use atomic_fs::sim::{Fault, FaultKind, Persistence};
    let (template, path) = journal_store();
    let before = view(&open(&path, 64, Durability::NoSyncTestsOnly).load().unwrap().state);
    let (calls, result, _) = journal_commit_with(copy_of(template.path()).path(), None);
    result.unwrap();
    let kinds: std::collections::BTreeSet<_> = calls.iter().map(|call| call.kind).collect();
    assert!(calls.len() >= 20 && kinds.len() >= 8, "an append and a checkpoint: {calls:?}");
    let mut cases = 0;
    for call in &calls {
        for kind in FaultKind::ALL {
            for persistence in Persistence::ALL {
                let fault = Fault { call: call.number, kind, persistence };
                let dir = copy_of(template.path());
                let (_, result, poisoned) = journal_commit_with(dir.path(), Some(fault));
                let problem = check_after_fault(dir.path(), &before, &result, poisoned);
                if let Err(problem) = problem {
                    panic!("{fault} on {call}: {problem} (result {result:?})");
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, calls.len() * FaultKind::ALL.len() * Persistence::ALL.len());
}

fn check_after_fault(
    dir: &Path,
    before: &View,
    result: &Result<(), metrics_store::StoreError>,
    poisoned: bool,
) -> Result<(), String> {
    let reader = open(&dir.join(MAIN), 64, Durability::NoSyncTestsOnly);
    let loaded = reader.load().map_err(|err| format!("a reader cannot load: {err}"))?;
    if let Some(report) = &loaded.journal
        && !report.problems.is_empty()
    {
        return Err(format!("a fault left a damaged journal: {report:?}"));
    }
    let found = view(&loaded.state);
    let mut with_x = before.events.clone();
    with_x.push("x".to_owned());
    match result {
        Ok(()) if found.events != with_x => {
            return Err(format!("acknowledged x is not visible: {found:?}"));
        }
        Ok(()) => {}
        Err(metrics_store::StoreError::Io { source, .. }) => {
            if found.events != before.events && found.events != with_x {
                return Err(format!("a failed commit left {found:?}"));
            }
            if source.is_sync_failure() && !poisoned {
                return Err("after a failed flush the handle still writes".to_owned());
            }
        }
        Err(other) => return Err(format!("unexpected error type: {other}")),
    }
    let writer = open(&dir.join(MAIN), 64, Durability::NoSyncTestsOnly);
    let _ = writer
        .record_event(event("z", "coding"))
        .map_err(|err| format!("the next writer fails: {err}"))?;
    let after = view(&writer.load().map_err(|err| err.to_string())?.state);
    let mut expected = found.events;
    expected.push("z".to_owned());
    if after.events != expected {
        return Err(format!("the next write gives {:?}, not {expected:?}", after.events));
    }
    Ok(())
}

#[test]
fn an_append_after_a_failed_flush_of_the_fresh_journals_name_survives_every_crash() {
    use atomic_fs::sim::{CallKind, Fault, FaultKind, Persistence};
    // Step one appends, then checkpoints (threshold 1), and the checkpoint's last call, the
    // directory flush that makes the fresh journal's name durable, fails: the append stands
    // (acknowledged) and the handle is poisoned. Step two is another handle (another process)
    // appending to the fresh journal: its entry must survive every crash too.
    fn steps(poisoned: &std::cell::Cell<bool>) -> Vec<Step<'_>> {
        vec![
            Box::new(move |store, _| {
                let acknowledged = store.record_event(event("j1", "coding")).is_ok();
                let probe = store.record_event(event("j1", "coding"));
                poisoned.set(matches!(probe, Err(metrics_store::StoreError::Poisoned { .. })));
                acknowledged
            }),
            Box::new(|_, path| {
                let other = open(path, 64, Durability::Full);
                other.record_event(event("j2", "review")).is_ok()
            }),
        ]
    }
    let poisoned = std::cell::Cell::new(false);
    let (probe, _) = journal_store();
    let (simulation, _) = run(probe.path(), 1, |_| {}, &steps(&poisoned));
    let calls = simulation.calls();
    let journal_flush = calls
        .windows(2)
        .find(|pair| {
            pair[0].kind == CallKind::Rename
                && pair[0].name == JOURNAL
                && pair[1].kind == CallKind::SyncDir
        })
        .map(|pair| pair[1].number)
        .expect("a checkpoint renames a fresh journal into place, then flushes the directory");
    let fault = Fault { call: journal_flush, kind: FaultKind::Eio, persistence: Persistence::Once };

    let (dir, _) = journal_store();
    let (simulation, views) = run(dir.path(), 1, |sim| sim.inject(fault), &steps(&poisoned));
    assert!(poisoned.get(), "the failed flush poisoned the handle");
    assert_eq!(views.last().unwrap().events.last().map(String::as_str), Some("j2"), "{views:?}");
    check(&simulation, &views).unwrap_or_else(|violation| panic!("{violation}"));
}
