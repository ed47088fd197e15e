//! The crash checker: replays what a scenario did on the simulated disk, and for every crash
//! point and loss pattern reopens the store on what "the disk" holds and checks it.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use atomic_fs::backup_path;
use atomic_fs::sim::{Crash, CrashImage, Simulation, StepKind};
use metrics_store::MetricsStore;

use crate::support::event;

/// The name of the metrics file in every scenario.
pub(crate) const MAIN: &str = ".agent_metrics.json";

/// The project name of every scenario's store (a fresh state's bytes depend on it).
pub(crate) const PROJECT: &str = "crash";

/// The event the next writer records after a crash.
const NEXT_EVENT: &str = "after-the-crash";

/// Whether `name` is one of `atomic-fs`'s temporary files.
pub(crate) fn is_temporary(name: &str) -> bool {
    [".tmp.", ".bak-tmp.", ".bak-prev."].iter().any(|tag| name.contains(tag))
}

/// Marks the trace: update number `n` (counting the generations list) was acknowledged.
pub(crate) fn acknowledge(simulation: &Simulation, generation: usize) {
    simulation.mark(&format!("acknowledged generation {generation}"));
}

/// What a scenario wrote and may be found after a crash.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expectation {
    /// The bytes of each generation of the metrics file, oldest first.
    pub(crate) generations: Vec<Vec<u8>>,
    /// The generation acknowledged before the first marker of the trace.
    pub(crate) acknowledged_at_start: usize,
    /// Bytes the metrics file held before the scenario that are damaged: the file may still
    /// hold them after a crash (recovery had not finished), and they must never be deleted.
    pub(crate) damaged: Option<Vec<u8>>,
    /// Other damaged bytes that must never be deleted (a damaged backup, moved aside).
    pub(crate) kept: Vec<Vec<u8>>,
}

/// A crash whose result broke a guarantee: where, how, and what was wrong.
#[derive(Debug)]
pub(crate) struct Violation {
    pub(crate) crash: String,
    pub(crate) problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.crash, self.problem)
    }
}

/// What a run of the checker covered.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Coverage {
    pub(crate) crash_points: usize,
    pub(crate) images: usize,
    pub(crate) second_crash_images: usize,
}

/// How deep to go.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Depth {
    /// Crash again at every point of the reopening writer's own trace.
    pub(crate) second_crash: bool,
    /// Check only one crash point (from `AGENT_METRICS_CRASH_POINT`, to replay a failure).
    pub(crate) only_point: Option<usize>,
    /// Check only this many images per crash point, chosen with the seed (`None`: all).
    pub(crate) sample: Option<(usize, u64)>,
}

impl Depth {
    /// Every image of every crash point, each crashed again while reopening.
    pub(crate) fn full() -> Depth {
        Depth { second_crash: true, only_point: replay_point(), sample: None }
    }

    /// `per_point` images of every crash point, chosen with `seed`, each crashed again.
    pub(crate) fn sampled(per_point: usize, seed: u64) -> Depth {
        Depth { second_crash: true, only_point: replay_point(), sample: Some((per_point, seed)) }
    }
}

/// The crash point to replay alone, from `AGENT_METRICS_CRASH_POINT`.
fn replay_point() -> Option<usize> {
    std::env::var("AGENT_METRICS_CRASH_POINT")
        .ok()
        .map(|point| point.parse().expect("AGENT_METRICS_CRASH_POINT is a crash point number"))
}

/// Checks every crash of `simulation`'s trace against `expect`.
pub(crate) fn check_crashes(
    simulation: &Simulation,
    expect: &Expectation,
    depth: Depth,
) -> Result<Coverage, Violation> {
    simulation.check_page_cache().map_err(|problem| Violation {
        crash: "the model of the page cache".to_owned(),
        problem,
    })?;
    let mut coverage = Coverage::default();
    let mut checked = HashSet::new();
    let mut acknowledged = expect.acknowledged_at_start;
    let mut rng = fastrand::Rng::with_seed(depth.sample.map_or(0, |(_, seed)| seed));
    for mut crash in simulation.crashes() {
        if let Some(generation) = acknowledgement(&crash) {
            acknowledged = generation;
        }
        if depth.only_point.is_some_and(|point| point != crash.point) {
            continue;
        }
        coverage.crash_points += 1;
        if let Some((per_point, _)) = depth.sample {
            rng.shuffle(&mut crash.images);
            crash.images.truncate(per_point);
        }
        for image in &crash.images {
            if !checked.insert((image.fingerprint(), acknowledged)) {
                continue;
            }
            coverage.images += 1;
            let name = || describe(&crash, image);
            check_image(image, expect, acknowledged)
                .map_err(|problem| Violation { crash: name(), problem })?;
            let reopened =
                reopen(image, expect).map_err(|problem| Violation { crash: name(), problem })?;
            if depth.second_crash {
                coverage.second_crash_images +=
                    check_second_crash(&reopened, expect).map_err(|violation| Violation {
                        crash: format!("{}, then {}", name(), violation.crash),
                        problem: violation.problem,
                    })?;
            }
        }
    }
    Ok(coverage)
}

/// The generation a marker step acknowledged.
fn acknowledgement(crash: &Crash) -> Option<usize> {
    match &crash.after.as_ref()?.kind {
        StepKind::Mark { label } => label.strip_prefix("acknowledged generation ")?.parse().ok(),
        _ => None,
    }
}

fn describe(crash: &Crash, image: &CrashImage) -> String {
    let after = crash
        .after
        .as_ref()
        .map_or("before the first step".to_owned(), |step| format!("after step {step}"));
    format!(
        "crash point {} ({after}) with {} [replay: AGENT_METRICS_CRASH_POINT={}]",
        crash.point, image.pattern, crash.point
    )
}

fn backup_name() -> String {
    backup_path(Path::new(MAIN)).display().to_string()
}

/// Stands for "no file" in [`Expectation::generations`] (the generation before a store is
/// created, or before its first backup).
pub(crate) const ABSENT: &[u8] = b"<absent>";

/// Which generation `bytes` is (the latest, when two generations hold the same bytes).
fn which(expect: &Expectation, bytes: Option<&[u8]>) -> Option<usize> {
    let bytes = bytes.unwrap_or(ABSENT);
    expect.generations.iter().rposition(|generation| generation.as_slice() == bytes)
}

/// The raw disk: the metrics file is exactly the acknowledged generation or the one in flight
/// (or still the damaged file, if recovery was interrupted), the backup is one generation
/// behind it or the same, and nothing damaged was deleted.
fn check_image(
    image: &CrashImage,
    expect: &Expectation,
    acknowledged: usize,
) -> Result<(), String> {
    let main_bytes = image.read(MAIN);
    let still_damaged = expect.damaged.is_some() && main_bytes == expect.damaged.as_deref();
    for damaged in expect.damaged.iter().chain(&expect.kept) {
        if !image.names().any(|name| image.read(name) == Some(damaged.as_slice())) {
            return Err("a damaged file was deleted".to_owned());
        }
    }
    if still_damaged {
        return Ok(());
    }
    let main = which(expect, main_bytes).ok_or_else(|| match main_bytes {
        None => "the metrics file is missing".to_owned(),
        Some(bytes) => format!(
            "the metrics file is not a whole generation ({} bytes: {:?}...)",
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
        ),
    })?;
    if main < acknowledged {
        return Err(format!(
            "the metrics file went back to generation {main}; generation {acknowledged} was \
             acknowledged"
        ));
    }
    if main > acknowledged + 1 {
        return Err(format!("generation {main} appeared before {} was acknowledged", main - 1));
    }
    let backup = which(expect, image.read(&backup_name()));
    let backup_ok = backup.is_some_and(|backup| backup == main || backup + 1 == main);
    if !backup_ok {
        return Err(format!(
            "the backup is {} while the metrics file is generation {main}: it must be one \
             generation behind or the same",
            backup.map_or("missing or not a generation".to_owned(), |b| format!("generation {b}"))
        ));
    }
    Ok(())
}

/// The store reopened on a crash image by the next writer: its simulation (for a second crash)
/// and what it found and wrote.
pub(crate) struct Reopened {
    /// The directory the simulation covers, removed when this drops.
    _dir: tempfile::TempDir,
    pub(crate) simulation: Arc<Simulation>,
    /// The generations the second-level check expects: the image's backup and main file as
    /// found (after any recovery), then the next writer's update.
    pub(crate) expect: Expectation,
}

/// Materializes `image`, opens the store on it, loads it and records one more event, all
/// through a fresh simulation.
fn reopen(image: &CrashImage, expect: &Expectation) -> Result<Reopened, String> {
    let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
    image.materialize(dir.path()).map_err(|err| format!("materialize: {err}"))?;
    let path = dir.path().join(MAIN);
    let simulation = Simulation::new(dir.path()).map_err(|err| err.to_string())?;
    let installed = simulation.install();
    let store = MetricsStore::builder(&path)
        .project_name(PROJECT)
        .open()
        .map_err(|err| format!("open: {err}"))?;
    let recovery = store.recover().map_err(|err| format!("the store does not recover: {err}"))?;
    let loaded = store.load().map_err(|err| format!("the store does not open: {err}"))?;
    let was_damaged = expect.damaged.is_some() && image.read(MAIN) == expect.damaged.as_deref();
    match (&recovery, was_damaged) {
        (None, false) | (Some(_), true) => {}
        (Some(recovery), false) => {
            return Err(format!("a crash left a file that needed recovery: {recovery}"));
        }
        (None, true) => return Err("the damaged file was loaded without recovery".to_owned()),
    }
    let found = match image.read(MAIN) {
        None => ABSENT.to_vec(),
        Some(_) => loaded.state.to_json(),
    };
    if which(expect, Some(&found)).is_none() {
        return Err("the state loaded is not one of the generations written".to_owned());
    }
    let backup = std::fs::read(dir.path().join(backup_name())).unwrap_or_else(|_| ABSENT.to_vec());
    let next = store
        .record_event(event(NEXT_EVENT, "reopened"))
        .map_err(|err| format!("the reopened store cannot be written: {err}"))?;
    acknowledge(&simulation, 2);
    drop(installed);
    simulation
        .check_page_cache()
        .map_err(|problem| format!("the simulation is wrong: {problem}"))?;
    let expected_outcome = if loaded.state.contains_event(NEXT_EVENT) {
        matches!(next, metrics_types::RecordOutcome::Duplicate)
    } else {
        matches!(next, metrics_types::RecordOutcome::Recorded { .. })
    };
    if !expected_outcome {
        return Err(format!("the next event had the wrong outcome: {next:?}"));
    }
    let written = std::fs::read(&path).map_err(|err| err.to_string())?;
    let state = store.load().map_err(|err| err.to_string())?.state;
    for old in loaded.state.events() {
        if !state.contains_event(old.event_id()) {
            return Err(format!("event {} was lost by the next write", old.event_id()));
        }
    }
    let leftovers: Vec<String> =
        crate::support::names(dir.path()).into_iter().filter(|name| is_temporary(name)).collect();
    if !leftovers.is_empty() {
        return Err(format!("temporary files survived the next write: {leftovers:?}"));
    }
    let expect = Expectation {
        generations: vec![backup, found, written],
        acknowledged_at_start: 1,
        damaged: None,
        kept: Vec::new(),
    };
    Ok(Reopened { _dir: dir, simulation, expect })
}

/// Crashes the reopening writer at every point of its own trace (a crash during recovery and
/// the first write after it) and checks each image the same way.
fn check_second_crash(reopened: &Reopened, first: &Expectation) -> Result<usize, Violation> {
    let mut expect = reopened.expect.clone();
    // A crash before recovery finished leaves the damaged file for the next open.
    expect.damaged.clone_from(&first.damaged);
    expect.kept.clone_from(&first.kept);
    let depth = Depth { second_crash: false, only_point: None, sample: None };
    let coverage = check_crashes(&reopened.simulation, &expect, depth)?;
    Ok(coverage.images)
}
