//! `replace` on the simulated disk (`atomic_fs::sim`): a crash after every step, with every
//! loss pattern, leaves whole generations with the backup one behind; every injected error
//! leaves the target and backup as they were; and each deliberately broken protocol is caught.

use std::path::Path;
use std::time::Duration;

use atomic_fs::sim::{
    CallKind, Fault, FaultKind, Lie, Persistence, SeamCall, Simulation, StepKind,
};
use atomic_fs::{Error, FileLock, backup_path, remove_stale_temps, replace};

use crate::child::FULL;

/// Generation `n`: three sectors and a bit, so that a torn write shows.
fn generation(n: usize) -> Vec<u8> {
    format!("generation {n}\n").repeat(120).into_bytes()
}

/// Which generation `bytes` is.
fn which(bytes: Option<&[u8]>) -> Option<usize> {
    let bytes = bytes?;
    (0..10).find(|&n| generation(n) == bytes)
}

/// A directory with generations 1 and 2 written durably (2 is the target, 1 the backup).
fn two_generations() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("data");
    replace(&target, &generation(1), &FULL).unwrap();
    replace(&target, &generation(2), &FULL).unwrap();
    (dir, target)
}

/// Writes generations 3 and 4 on the simulation, then checks every crash image. Returns the
/// first violation, naming the crash point and the loss pattern.
fn crash_suite(lie: Option<Lie>, fault: Option<Fault>) -> Result<usize, String> {
    let (dir, target) = two_generations();
    let simulation = Simulation::new(dir.path()).unwrap();
    simulation.set_lie(lie);
    if let Some(fault) = fault {
        simulation.inject(fault);
    }
    let installed = simulation.install();
    let mut acknowledged = 2;
    for n in [3, 4] {
        if replace(&target, &generation(n), &FULL).is_ok() {
            acknowledged = n;
            simulation.mark(&format!("generation {n} acknowledged"));
        }
    }
    drop(installed);
    simulation.check_page_cache()?;
    let name = "data";
    let backup = backup_path(Path::new(name)).display().to_string();
    let mut images = 0;
    let mut acked_so_far = 2;
    for crash in simulation.crashes() {
        if let Some(step) = &crash.after
            && let StepKind::Mark { label } = &step.kind
        {
            acked_so_far = label.split(' ').nth(1).unwrap().parse().unwrap();
        }
        for image in &crash.images {
            images += 1;
            let main = which(image.read(name));
            let previous = which(image.read(&backup));
            let allowed_main = [acked_so_far, acked_so_far + 1];
            let ok = match main {
                Some(main) if allowed_main.contains(&main) && main <= acknowledged + 1 => {
                    previous == Some(main - 1) || previous == Some(main)
                }
                _ => false,
            };
            if !ok {
                let after =
                    crash.after.as_ref().map_or("the start".to_owned(), ToString::to_string);
                return Err(format!(
                    "crash after {after} with {}: target is generation {main:?}, backup \
                     {previous:?}; generation {acked_so_far} was acknowledged",
                    image.pattern
                ));
            }
        }
    }
    Ok(images)
}

#[test]
fn every_crash_leaves_whole_generations_with_the_backup_one_behind() {
    let images = crash_suite(None, None).unwrap();
    assert!(images > 40, "only {images} crash images were checked");
}

#[test]
#[expect(clippy::print_stderr, reason = "where each lie is caught is worth seeing")]
fn every_lie_standing_for_a_replace_bug_is_caught_at_a_named_crash_point() {
    for lie in Lie::REPLACE_BUGS {
        // A flush that fails: the first write's fdatasync (call 3: lstat, open, write,
        // fdatasync).
        let fault = lie.needs_a_failed_flush().then_some(Fault {
            call: 3,
            kind: FaultKind::Eio,
            persistence: Persistence::Once,
        });
        let caught = crash_suite(Some(lie), fault).expect_err(&format!("{lie:?} survived"));
        assert!(caught.starts_with("crash after #"), "{lie:?}: {caught}");
        eprintln!("{lie:?} caught: {caught}");
    }
}

/// The seam calls of one `replace` with a backup over an existing file.
fn calls_of_one_replace() -> Vec<SeamCall> {
    let (dir, target) = two_generations();
    let simulation = Simulation::new(dir.path()).unwrap();
    let installed = simulation.install();
    replace(&target, &generation(3), &FULL).unwrap();
    drop(installed);
    simulation.calls()
}

#[test]
fn a_replace_makes_the_documented_calls_in_order() {
    let kinds: Vec<CallKind> = calls_of_one_replace().iter().map(|call| call.kind).collect();
    use CallKind::*;
    assert_eq!(
        kinds,
        [Inspect, CreateNew, Write, SyncFile, Inspect, Link, Link, Rename, Rename, Remove, SyncDir]
    );
}

#[test]
fn every_injected_error_leaves_target_and_backup_intact() {
    let calls = calls_of_one_replace();
    let mut cases = 0;
    for call in &calls {
        for kind in FaultKind::ALL {
            for persistence in Persistence::ALL {
                cases += 1;
                let fault = Fault { call: call.number, kind, persistence };
                check_fault(fault, call).unwrap_or_else(|problem| panic!("{fault}: {problem}"));
            }
        }
    }
    assert_eq!(cases, calls.len() * 18);
}

/// Replaces generation 2 by 3 with `fault`, then checks the outcome.
fn check_fault(fault: Fault, call: &SeamCall) -> Result<(), String> {
    let (dir, target) = two_generations();
    let simulation = Simulation::new(dir.path()).unwrap();
    simulation.inject(fault);
    let installed = simulation.install();
    let result = replace(&target, &generation(3), &FULL);
    drop(installed);
    simulation.check_page_cache()?;
    let main = which(std::fs::read(&target).ok().as_deref());
    let backup = which(std::fs::read(backup_path(&target)).ok().as_deref());
    let leftovers = temporary_files(dir.path());
    // Which calls may fail without failing the replace: removing the pinned old backup after
    // the commit (best effort; the next writer's sweep removes it).
    let cleanup_only = call.kind == CallKind::Remove;
    match result {
        Ok(_) if cleanup_only => {
            if (main, backup) != (Some(3), Some(2)) {
                return Err(format!("succeeded with target {main:?}, backup {backup:?}"));
            }
        }
        Ok(_) => return Err("the injected error was swallowed".to_owned()),
        // The directory flush after the commit failed (the fault hit it, or every call after
        // an earlier one): the new contents are visible, not known durable, and it says so.
        Err(Error::Sync { path, .. }) if path == dir.path() => {
            if (main, backup) != (Some(3), Some(2)) {
                return Err(format!("directory flush failed: target {main:?}, backup {backup:?}"));
            }
        }
        Err(err) => {
            if call.kind == CallKind::SyncFile && !err.is_sync_failure() {
                return Err(format!("a failed flush is not reported as one: {err}"));
            }
            if !matches!(err, Error::Io { .. } | Error::Sync { .. }) {
                return Err(format!("unexpected error type: {err:?}"));
            }
            // The one documented exception: when the commit rename fails and keeps failing,
            // the roll-back of the backup (a rename too) fails, and the backup stays a second
            // name of the unchanged target: whole, and newer than the backup it replaced.
            let commit_keeps_failing = call.kind == CallKind::Rename
                && call.name == "data"
                && fault.persistence != Persistence::Once;
            let expected =
                if commit_keeps_failing { (Some(2), Some(2)) } else { (Some(2), Some(1)) };
            if (main, backup) != expected {
                return Err(format!("{err}: target {main:?}, backup {backup:?}"));
            }
            let retried = simulation
                .trace()
                .iter()
                .filter(|step| matches!(step.kind, StepKind::SyncFile { .. }))
                .count();
            if retried > 1 {
                return Err(format!("a failed flush was retried ({retried} flushes)"));
            }
        }
    }
    // A temporary file may stay only when removing it was what failed (the cleanup call
    // itself, or every call from then on); the next writer's sweep removes it.
    let removal_failed = cleanup_only || fault.persistence == Persistence::EveryCallFromThenOn;
    if !removal_failed && !leftovers.is_empty() {
        return Err(format!("temporary files left: {leftovers:?}"));
    }
    let lock = FileLock::lock(&dir.path().join("data.lock"), Duration::from_secs(5)).unwrap();
    remove_stale_temps(&lock, &target, &[]).map_err(|err| err.to_string())?;
    let after_sweep = temporary_files(dir.path());
    if !after_sweep.is_empty() {
        return Err(format!("the sweep left temporary files: {after_sweep:?}"));
    }
    Ok(())
}

fn temporary_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect()
}
