//! The README's tour runs as written (issue 16): its code block, taken from README.md, in a
//! real `bash` with `set -euo pipefail`, the completion script loaded and the built binary
//! first on `PATH`, in a fresh directory. A command of the tour that fails fails this test.

use std::process::Command;

use crate::support::TestEnv;

const README: &str = include_str!("../../../../README.md");

/// The first `sh` code block after the heading `heading`.
fn block_after(heading: &str) -> &'static str {
    let section = &README[README.find(heading).expect("README has the section")..];
    let start = section.find("```sh\n").expect("a code block follows") + "```sh\n".len();
    let end = section[start..].find("```").expect("the block ends");
    &section[start..start + end]
}

/// The first `sh` code block after `## A short tour`.
fn tour() -> &'static str {
    block_after("## A short tour")
}

/// The install block runs on a fresh home (the `cargo install` line aside: the test uses the
/// binary it built): the completions line must not need a directory that is not there yet,
/// and the install line must not re-resolve the dependencies (`--locked`).
#[test]
fn the_readme_install_block_works_on_a_fresh_home() {
    let env = TestEnv::empty();
    let home = env.dir().join("home");
    std::fs::create_dir(&home).unwrap();
    let install = block_after("## Install");
    let cargo_line = install.lines().find(|line| line.starts_with("cargo install")).unwrap();
    assert!(cargo_line.contains("--locked"), "{cargo_line}");
    let rest: String = install
        .lines()
        .filter(|line| !line.starts_with("cargo install"))
        .map(|line| format!("{line}\n"))
        .collect();
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_agent-metrics"));
    let script = format!(
        "set -euo pipefail\nexport PATH=\"{}:$PATH\"\n{rest}",
        binary.parent().unwrap().display()
    );
    let output = Command::new("bash").arg("-c").arg(&script).env("HOME", &home).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let completions = home.join(".local/share/bash-completion/completions/agent-metrics");
    assert!(std::fs::read_to_string(completions).unwrap().contains("agent-metrics"));
}

#[test]
fn the_readme_tour_runs_as_written_in_bash() {
    let env = TestEnv::empty();
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_agent-metrics"));
    let bin_dir = binary.parent().unwrap();
    let script = format!(
        "set -euo pipefail\nexport PATH=\"{}:$PATH\"\nsource <(agent-metrics completions bash)\ncomplete -p agent-metrics >/dev/null\n{}",
        bin_dir.display(),
        tour()
    );
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env.dir())
        .env_remove("AGENT_METRICS_FILE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the tour failed ({}):\n{stderr}\n--- stdout ---\n{stdout}",
        output.status
    );
    assert!(tour().lines().count() > 20, "the whole tour ran");
    assert!(stdout.contains("# TYPE agent_metrics_invocations counter"), "{stdout}");
    assert!(env.dir().join("agent_metrics.prom").exists());
    assert!(stdout.contains("Ticket AI-7"), "{stdout}");
}
