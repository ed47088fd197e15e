//! `cargo xtask ci`: every check CI runs, in the order CI runs them.
//!
//! `.ci/run` installs the tools a fresh machine lacks, runs the README's test command, then
//! calls this task; a local `cargo xtask ci` that passes predicts a green CI.

use crate::cmd::{cargo, exec, is_installed};

/// The steps, by name, in order.
const STEPS: [&str; 10] =
    ["fmt", "clippy", "test", "doc", "package", "deny", "loom", "stress", "crash", "e2e"];

fn run_step(step: &str) -> Result<(), String> {
    match step {
        "fmt" => exec(&mut cargo(&["fmt", "--all", "--", "--check"])),
        "clippy" => {
            exec(&mut cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
        }
        "test" => exec(&mut cargo(&["test", "--workspace"])),
        "doc" => exec(
            cargo(&["doc", "--workspace", "--no-deps", "--features", "atomic-fs/simulation"])
                .env("RUSTDOCFLAGS", "-D warnings"),
        ),
        "package" => crate::package::run(),
        "deny" => deny(),
        "loom" => loom(),
        "stress" => {
            crate::stress::run(&crate::stress::Options::ci())?;
            crate::stress::run(&crate::stress::Options::ci_journal())
        }
        "crash" => crate::crash::run(&crate::crash::Options { iterations: 10, seed: None }),
        "e2e" => crate::e2e::run(&crate::e2e::Options::ci()),
        other => Err(format!("unknown ci step {other:?}; steps are {STEPS:?}")),
    }
}

pub(crate) fn run(skip: &[String]) -> Result<(), String> {
    if let Some(unknown) = skip.iter().find(|step| !STEPS.contains(&step.as_str())) {
        return Err(format!("unknown ci step {unknown:?}; steps are {STEPS:?}"));
    }
    let mut times = Vec::new();
    for step in STEPS.iter().filter(|step| !skip.iter().any(|skipped| skipped == *step)) {
        let started = std::time::Instant::now();
        let result = run_step(step);
        times.push((*step, started.elapsed(), result.is_ok()));
        if result.is_err() {
            print_times(&times);
            return result;
        }
    }
    print_times(&times);
    Ok(())
}

/// The per-step time table, printed at the end of every run (failed ones too).
#[expect(clippy::print_stderr, reason = "xtask reports its timing")]
fn print_times(times: &[(&str, std::time::Duration, bool)]) {
    eprintln!();
    eprintln!("| step | seconds | result |");
    eprintln!("|---|---:|---|");
    for (step, took, ok) in times {
        let result = if *ok { "ok" } else { "FAILED" };
        eprintln!("| {step} | {:.0} | {result} |", took.as_secs_f64());
    }
    let total: f64 = times.iter().map(|(_, took, _)| took.as_secs_f64()).sum();
    eprintln!("| total | {total:.0} | |");
}

/// License, ban and source checks. Advisories are not checked: they need the RustSec database
/// from GitHub, which this environment cannot reach (see `deny.toml`).
#[expect(clippy::print_stderr, reason = "xtask reports skipped steps")]
fn deny() -> Result<(), String> {
    if !is_installed("cargo-deny", &["--version"]) {
        eprintln!(
            "skipping cargo deny: cargo-deny is not installed (`cargo install cargo-deny --locked`)"
        );
        return Ok(());
    }
    exec(&mut cargo(&["deny", "check", "licenses", "bans", "sources"]))
}

/// The loom models of the write protocol (`crates/metrics-store/src/loom_model.rs`), built with
/// `--cfg loom` in their own target directory so normal builds are not invalidated.
pub(crate) fn loom() -> Result<(), String> {
    let target = crate::cmd::workspace_root().join("target/loom");
    let preemptions = std::env::var("LOOM_MAX_PREEMPTIONS").unwrap_or_else(|_| "3".to_owned());
    exec(
        cargo(&["test", "--release", "-p", "agent-metrics-store", "--lib", "loom_"])
            .env("RUSTFLAGS", "--cfg loom")
            .env("CARGO_TARGET_DIR", target)
            .env("LOOM_MAX_PREEMPTIONS", preemptions),
    )
}
