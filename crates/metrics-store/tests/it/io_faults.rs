//! I/O errors injected at every call of an update (`atomic_fs::sim`): EIO, ENOSPC, EDQUOT,
//! EACCES, EROFS and a short write, once and from then on. Each gives a typed error, leaves
//! the previous state and backup intact, leaves no temporary file, and never retries a failed
//! flush. Plus a real full disk, on a small tmpfs where this machine can mount one.

use std::path::Path;
use std::sync::Arc;

use atomic_fs::sim::{
    CallKind, Fault, FaultKind, Persistence, SeamCall, Simulation, Step, StepKind,
};
use metrics_store::{MetricsStore, StoreError};

use crate::crash::store_with_history;
use crate::support::{event, names};

const MAIN: &str = ".agent_metrics.json";

/// A copy of the two-generation fixture in a fresh directory.
fn fixture(template: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names(template) {
        std::fs::copy(template.join(&name), dir.path().join(&name)).unwrap();
    }
    dir
}

fn read(dir: &Path, name: &str) -> Option<Vec<u8>> {
    std::fs::read(dir.join(name)).ok()
}

fn temporary_files(dir: &Path) -> Vec<String> {
    names(dir).into_iter().filter(|name| crate::crash::is_temporary(name)).collect()
}

/// Records event "e3" through a fresh handle on a simulation of `dir` with `fault`.
fn update_with(
    dir: &Path,
    fault: Option<Fault>,
) -> (Arc<Simulation>, MetricsStore, Result<(), StoreError>) {
    let simulation = Simulation::new(dir).unwrap();
    if let Some(fault) = fault {
        simulation.inject(fault);
    }
    let installed = simulation.install();
    let store = MetricsStore::open(&dir.join(MAIN)).unwrap();
    let result = store.record_event(event("e3", "coding")).map(drop);
    drop(installed);
    (simulation, store, result)
}

#[test]
fn every_injected_error_in_an_update_is_typed_and_loses_nothing() {
    let (template, _) = store_with_history();
    let calls = update_with(fixture(template.path()).path(), None).0.calls();
    assert!(calls.len() >= 12, "{calls:?}");
    let mut cases = 0;
    for call in &calls {
        for kind in FaultKind::ALL {
            for persistence in Persistence::ALL {
                let fault = Fault { call: call.number, kind, persistence };
                let dir = fixture(template.path());
                check(dir.path(), fault, call)
                    .unwrap_or_else(|problem| panic!("{fault} on {call}: {problem}"));
                cases += 1;
            }
        }
    }
    assert_eq!(cases, calls.len() * FaultKind::ALL.len() * Persistence::ALL.len());
}

fn check(dir: &Path, fault: Fault, call: &SeamCall) -> Result<(), String> {
    let before = (read(dir, MAIN), read(dir, &format!("{MAIN}.bak")));
    let (simulation, store, result) = update_with(dir, Some(fault));
    simulation.check_page_cache()?;
    let after = (read(dir, MAIN), read(dir, &format!("{MAIN}.bak")));
    let committed = after.0 != before.0;
    // Calls whose failure an update survives: the sweep for stale temporary files (logged)
    // and removing the pinned old backup after the commit (the next sweep removes it).
    let harmless = matches!(call.kind, CallKind::ListDir | CallKind::Remove);
    match &result {
        Ok(()) if harmless && committed => {}
        Ok(()) => return Err(format!("the error was swallowed (committed: {committed})")),
        Err(err @ StoreError::Io { path, source }) => {
            if !path.ends_with(MAIN) || !err.to_string().contains(MAIN) {
                return Err(format!("the error does not name the file: {err}"));
            }
            if committed {
                // Only the directory flush after the commit can fail once the new file is in
                // place; the write is reported as failed and the handle refuses more.
                if !source.is_sync_failure() {
                    return Err(format!("committed, then failed without a flush error: {source}"));
                }
                if after.1 != before.0 {
                    return Err(
                        "committed, but the backup is not the previous generation".to_owned()
                    );
                }
            } else {
                let commit_keeps_failing = call.kind == CallKind::Rename
                    && call.name == MAIN
                    && fault.persistence != Persistence::Once;
                let backup_ok =
                    after.1 == before.1 || (commit_keeps_failing && after.1 == before.0);
                if !backup_ok {
                    return Err(format!("the backup changed: {source}"));
                }
            }
            if !source.is_sync_failure() && fault.persistence == Persistence::Once {
                // Only a failed flush is final: after any other failure the same handle
                // writes again.
                let _ = store
                    .record_event(event("e-again", "coding"))
                    .map_err(|err| format!("after {source} the handle refused: {err}"))?;
            }
            if source.is_sync_failure() {
                match store.record_event(event("e4", "coding")) {
                    Err(StoreError::Poisoned { .. }) => {}
                    other => {
                        return Err(format!("after a failed flush the handle wrote: {other:?}"));
                    }
                }
                never_retried(&simulation.trace())?;
            }
        }
        Err(other) => return Err(format!("unexpected error type: {other:?}")),
    }
    let removal_failed =
        call.kind == CallKind::Remove || fault.persistence == Persistence::EveryCallFromThenOn;
    let leftovers = temporary_files(dir);
    if !removal_failed && !leftovers.is_empty() {
        return Err(format!("temporary files left: {leftovers:?}"));
    }

    // The disk is repaired: a new handle writes, sweeps, and has every acknowledged event.
    let repaired = MetricsStore::open(&dir.join(MAIN)).unwrap();
    let _ = repaired
        .record_event(event("e4", "coding"))
        .map_err(|err| format!("after repair: {err}"))?;
    let state = repaired.load().map_err(|err| err.to_string())?.state;
    for id in ["e1", "e2", "e4"] {
        if !state.contains_event(id) {
            return Err(format!("event {id} is missing after repair"));
        }
    }
    if state.contains_event("e3") != (committed || result.is_ok()) {
        return Err("e3 is stored exactly when its write reached the file".to_owned());
    }
    if !temporary_files(dir).is_empty() {
        return Err(format!("the next writer left temporary files: {:?}", temporary_files(dir)));
    }
    Ok(())
}

/// No file is flushed again after its flush failed.
fn never_retried(trace: &[Step]) -> Result<(), String> {
    let mut failed = Vec::new();
    for step in trace {
        if let StepKind::SyncFile { file } = step.kind {
            if failed.contains(&file) {
                return Err(format!("{file} was flushed again after its flush failed: {step}"));
            }
            if step.failed.is_some() {
                failed.push(file);
            }
        }
    }
    Ok(())
}

#[test]
fn every_injected_error_while_loading_is_typed_and_changes_nothing() {
    let (template, _) = store_with_history();
    for kind in FaultKind::ALL {
        let dir = fixture(template.path());
        let before = names(dir.path());
        let simulation = Simulation::new(dir.path()).unwrap();
        simulation.inject(Fault { call: 0, kind, persistence: Persistence::EveryCallFromThenOn });
        let installed = simulation.install();
        let err = MetricsStore::open(&dir.path().join(MAIN)).unwrap().load().unwrap_err();
        drop(installed);
        assert!(matches!(err, StoreError::Io { .. }), "{kind:?}: {err:?}");
        assert!(err.to_string().contains("cannot read"), "{kind:?}: {err}");
        assert_eq!(names(dir.path()), before);
        assert!(simulation.trace().is_empty(), "a failed load writes nothing");
    }
}

/// A small tmpfs mounted over a temporary directory for one test, unmounted on drop.
struct TinyFileSystem {
    dir: tempfile::TempDir,
}

impl TinyFileSystem {
    /// Mounts it, or says why it cannot (not root, no `mount`, a container without the
    /// capability).
    fn mount(size: &str) -> Result<TinyFileSystem, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let output = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|err| format!("cannot run mount: {err}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_owned());
        }
        Ok(TinyFileSystem { dir })
    }
}

impl Drop for TinyFileSystem {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.dir.path()).status();
    }
}

/// Fills the file system holding `dir` until a write fails with ENOSPC.
fn fill(dir: &Path) -> std::path::PathBuf {
    use std::io::Write;
    let filler = dir.join("filler");
    let mut out = std::fs::OpenOptions::new().write(true).create_new(true).open(&filler).unwrap();
    let chunk = vec![0xAB; 4096];
    loop {
        match out.write_all(&chunk) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::StorageFull => return filler,
            Err(err) => panic!("filling the disk: {err}"),
        }
    }
}

#[test]
#[expect(clippy::print_stderr, reason = "whether the real full disk ran or was skipped, and why")]
#[cfg_attr(no_tmpfs_mount, ignore = "needs root and mount(8) to mount a small tmpfs")]
fn a_real_full_disk_is_a_clear_error_and_loses_nothing() {
    // Root with mount(8) was found at build time: a mount that fails now is a failure, not
    // a silent pass.
    let tiny = TinyFileSystem::mount("512k")
        .unwrap_or_else(|reason| panic!("cannot mount a small tmpfs as root: {reason}"));
    let path = tiny.dir.path().join(MAIN);
    let store = MetricsStore::open(&path).unwrap();
    let _ = store.record_event(event("e1", "coding")).unwrap();
    let _ = store.record_event(event("e2", "coding")).unwrap();
    let before = (read(tiny.dir.path(), MAIN), read(tiny.dir.path(), &format!("{MAIN}.bak")));
    let filler = fill(tiny.dir.path());

    let err = store.record_event(event("e3", "coding")).unwrap_err();
    assert!(matches!(err, StoreError::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("the disk is full; the previous contents are unchanged"),
        "{err}"
    );
    let after = (read(tiny.dir.path(), MAIN), read(tiny.dir.path(), &format!("{MAIN}.bak")));
    assert_eq!(after, before, "the file and its backup are unchanged");
    assert!(temporary_files(tiny.dir.path()).is_empty(), "{:?}", names(tiny.dir.path()));

    std::fs::remove_file(filler).unwrap();
    let _ = store.record_event(event("e3", "coding")).unwrap();
    let state = store.load().unwrap().state;
    assert!(["e1", "e2", "e3"].iter().all(|id| state.contains_event(id)));
    eprintln!("real ENOSPC test ran on a 512 KiB tmpfs: {err}");
}

#[test]
fn every_injected_error_while_recovering_is_typed_and_loses_nothing() {
    let (template, _) = store_with_history();
    let damaged = b"{\"version\": 1, \"events\": [tr".to_vec();
    crate::support::plant(&template.path().join(MAIN), &damaged);
    let backup = read(template.path(), &format!("{MAIN}.bak")).unwrap();
    let recover = |dir: &Path, fault: Option<Fault>| {
        let simulation = Simulation::new(dir).unwrap();
        if let Some(fault) = fault {
            simulation.inject(fault);
        }
        let installed = simulation.install();
        let recovered = MetricsStore::open(&dir.join(MAIN)).unwrap().recover();
        drop(installed);
        (simulation, recovered)
    };
    let (dry_run, recovered) = recover(fixture(template.path()).path(), None);
    assert!(recovered.unwrap().is_some());
    let calls = dry_run.calls();
    for call in &calls {
        for kind in FaultKind::ALL {
            for persistence in Persistence::ALL {
                let fault = Fault { call: call.number, kind, persistence };
                let dir = fixture(template.path());
                let (simulation, loaded) = recover(dir.path(), Some(fault));
                let context = format!("{fault} on {call}");
                simulation
                    .check_page_cache()
                    .unwrap_or_else(|problem| panic!("{context}: {problem}"));
                if let Err(err) = &loaded {
                    assert!(matches!(err, StoreError::Io { .. }), "{context}: {err:?}");
                    assert!(err.to_string().contains(MAIN), "{context}: {err}");
                }
                let files: Vec<Vec<u8>> =
                    names(dir.path()).iter().filter_map(|name| read(dir.path(), name)).collect();
                assert!(files.contains(&damaged), "{context}: the damaged file was lost");
                assert_eq!(
                    read(dir.path(), &format!("{MAIN}.bak")).as_ref(),
                    Some(&backup),
                    "{context}"
                );
                let main = read(dir.path(), MAIN);
                assert!(main == Some(damaged.clone()) || main == Some(backup.clone()), "{context}");

                // Repaired: the next load shows the backup (or the recovered file), and writes work.
                let store = MetricsStore::open(&dir.path().join(MAIN)).unwrap();
                let state = store.load().unwrap_or_else(|err| panic!("{context}: {err}")).state;
                assert!(state.contains_event("e1") && !state.contains_event("e2"), "{context}");
                let _ = store.record_event(event("e5", "coding")).unwrap();
                assert!(temporary_files(dir.path()).is_empty(), "{context}");
            }
        }
    }
}
