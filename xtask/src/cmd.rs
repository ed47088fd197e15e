//! Running cargo and other programs from xtask, echoing each command before it runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the parent of `xtask/`).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A `cargo` command run at the workspace root, using the cargo that invoked xtask.
pub(crate) fn cargo(args: &[&str]) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(args).current_dir(workspace_root());
    command
}

/// Runs a command to completion, failing with the command line when it does not succeed.
#[expect(clippy::print_stderr, reason = "xtask echoes the commands it runs")]
pub(crate) fn exec(command: &mut Command) -> Result<(), String> {
    let line = format!("{command:?}");
    eprintln!("$ {line}");
    let status = command.status().map_err(|err| format!("could not start {line}: {err}"))?;
    if status.success() { Ok(()) } else { Err(format!("{line} failed with {status}")) }
}

/// Whether a program can be found (by running it with `--version`).
pub(crate) fn is_installed(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|output| output.status.success())
}

/// Builds `store-driver` (the `agent-metrics-benches` binary the stress readers and the
/// journal benchmark run) in release mode and returns its path.
pub(crate) fn build_store_driver() -> Result<PathBuf, String> {
    exec(
        cargo(&[
            "build",
            "--release",
            "--quiet",
            "-p",
            "agent-metrics-benches",
            "--bin",
            "store-driver",
        ])
        .stdout(std::process::Stdio::null()),
    )?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    Ok(target.join("release/store-driver"))
}
