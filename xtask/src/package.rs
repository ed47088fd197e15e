//! `cargo xtask package`: the crates as crates.io would get them. Packages every publishable
//! crate (`cargo package --workspace`, offline: the workspace's own crates are resolved from
//! a local overlay, the rest from the registry cache), then builds and runs a downstream
//! crate against the unpacked tarball of `agent-metrics-types` alone and of
//! `agent-metrics-atomic-fs` alone, with the workspace's lock file so it stays offline.

use std::path::Path;

use crate::cmd::{cargo, exec, workspace_root};

/// A downstream program per lower crate: it uses the crate as its README shows and fails
/// loudly if the packaged crate does not behave.
const DOWNSTREAM: [(&str, &str); 2] = [
    (
        "agent-metrics-types",
        r#"use metrics_types::{AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent};

fn main() {
    let mut state = DashboardState::new("downstream");
    let started_at = "2026-02-14T17:10:00+00:00".parse().unwrap();
    let event = AgentEvent::new(NewAgentEvent {
        input_tokens: 1500,
        output_tokens: 500,
        ..NewAgentEvent::new("evt-1", "github", EventStatus::Success, started_at)
    })
    .unwrap();
    let _ = state.record_event(event, &Limits::DEFAULT);
    let loaded = DashboardState::from_json(&state.to_json(), &Limits::DEFAULT).unwrap();
    assert_eq!(loaded.agents()["github"].total_tokens(), 2000);
    println!("agent-metrics-types from its tarball: a state round-trips");
}
"#,
    ),
    (
        "agent-metrics-atomic-fs",
        r#"use std::time::Duration;
use atomic_fs::{Backup, Durability, FileLock, ReplaceConfig, replace};

fn main() {
    let dir = std::env::temp_dir().join(format!("downstream-atomic-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("counter");
    let config = ReplaceConfig { durability: Durability::Full, backup: Backup::PreviousGeneration };
    for n in 1..=2u8 {
        let lock = FileLock::lock(&dir.join("counter.lock"), Duration::from_secs(10)).unwrap();
        replace(&target, &[n], &config).unwrap();
        drop(lock);
    }
    assert_eq!(std::fs::read(&target).unwrap(), [2]);
    assert_eq!(std::fs::read(atomic_fs::backup_path(&target)).unwrap(), [1]);
    std::fs::remove_dir_all(&dir).unwrap();
    println!("agent-metrics-atomic-fs from its tarball: replace keeps the previous generation");
}
"#,
    ),
];

pub(crate) fn run() -> Result<(), String> {
    let root = workspace_root();
    forget_extracted_overlays()?;
    exec(&mut cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "xtask",
        "--exclude",
        "agent-metrics-benches",
        "--offline",
        "--allow-dirty",
    ]))?;
    let version = env!("CARGO_PKG_VERSION");
    for (package, program) in DOWNSTREAM {
        let unpacked = root.join("target/package").join(format!("{package}-{version}"));
        let dir = root.join("target/downstream").join(package);
        write_downstream(&dir, package, &unpacked, program)?;
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
            .map_err(|err| format!("Cargo.lock: {err}"))?;
        exec(
            cargo(&["run", "--offline", "--quiet"])
                .current_dir(&dir)
                .env("CARGO_TARGET_DIR", root.join("target/downstream/target")),
        )?;
    }
    Ok(())
}

/// Removes cargo's extracted copies of this workspace's packages from earlier packaging runs.
/// `cargo package --workspace` verifies each crate against the others through a local
/// registry overlay, whose sources cargo extracts under `CARGO_HOME/registry/src/` once per
/// overlay path and version and then reuses: at an unchanged version (0.1.0 here), a second
/// run from the same checkout path would build against the first run's code. The packages
/// are never published, so nothing else uses these directories.
fn forget_extracted_overlays() -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME").map_or_else(
        || std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        std::path::PathBuf::from,
    );
    let Ok(registries) = std::fs::read_dir(home.join("registry/src")) else { return Ok(()) };
    for registry in registries.flatten() {
        let Ok(packages) = std::fs::read_dir(registry.path()) else { continue };
        for package in packages.flatten() {
            if package.file_name().to_string_lossy().starts_with("agent-metrics-") {
                std::fs::remove_dir_all(package.path())
                    .map_err(|err| format!("{}: {err}", package.path().display()))?;
            }
        }
    }
    Ok(())
}

/// A crate in `dir` that depends on the unpacked tarball of `package` only.
#[expect(clippy::disallowed_methods, reason = "scratch files of a check run, not data")]
fn write_downstream(
    dir: &Path,
    package: &str,
    unpacked: &Path,
    program: &str,
) -> Result<(), String> {
    std::fs::create_dir_all(dir.join("src")).map_err(|err| format!("{}: {err}", dir.display()))?;
    let manifest = format!(
        "[package]\nname = \"downstream\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{package} = {{ path = {:?} }}\n\n[workspace]\n",
        unpacked.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|err| err.to_string())?;
    std::fs::write(dir.join("src/main.rs"), program).map_err(|err| err.to_string())
}
