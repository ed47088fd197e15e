//! `cargo xtask fuzz --seconds N`: runs every cargo-fuzz target in `fuzz/` for N seconds each
//! (nightly and `cargo-fuzz` needed; without them it says so and fails), seeded from the
//! committed corpora in `fuzz/corpus/`. New inputs go to `target/fuzz-corpus/` (not committed);
//! a crash is saved under `fuzz/artifacts/` and should be copied into `fuzz/corpus/TARGET/` as
//! `regression-*`, where `cargo test` replays it on stable
//! (`crates/metrics-store/tests/it/corpus.rs`). `--runs N` stops each target after N
//! executions instead (whichever of the two comes first).
//!
//! The targets are built without a sanitizer (`--sanitizer none`): every workspace crate
//! forbids `unsafe`, so AddressSanitizer would watch only the dependencies' unsafe code, and
//! it costs about four fifths of the executions (the loader's first minute from the committed
//! corpus, alone on this 2-core machine: 9 127 inputs/s without it, 1 841 with it). What the
//! targets look for is panics and broken properties, which need no sanitizer.

use std::process::Command;

use crate::cmd::{exec, is_installed, workspace_root};

/// The targets of `fuzz/Cargo.toml`.
const TARGETS: [&str; 5] = ["load_state", "journal", "journal_entry", "event_input", "verdict"];

/// Options of `cargo xtask fuzz`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// How long to run each target
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Stop each target after this many executions (if that comes before `--seconds`)
    #[arg(long)]
    runs: Option<u64>,
    /// Run only this target (load_state, journal, journal_entry, event_input, verdict)
    #[arg(long)]
    target: Option<String>,
}

pub(crate) fn run(options: &Options) -> Result<(), String> {
    if !is_installed("cargo", &["+nightly", "fuzz", "--version"]) {
        return Err("cargo-fuzz on a nightly toolchain is needed: `rustup toolchain install nightly` and `cargo install cargo-fuzz`; the corpora also run on stable in `cargo test` (crates/metrics-store/tests/it/corpus.rs)".to_owned());
    }
    let root = workspace_root();
    for target in TARGETS
        .iter()
        .filter(|target| options.target.as_deref().is_none_or(|only| only == **target))
    {
        let fresh = root.join("target/fuzz-corpus").join(target);
        std::fs::create_dir_all(&fresh).map_err(|err| format!("{}: {err}", fresh.display()))?;
        let mut command = Command::new("cargo");
        command
            .current_dir(root.join("fuzz"))
            .args(["+nightly", "fuzz", "run", target, "-O", "--sanitizer", "none"])
            .arg(&fresh)
            .arg(root.join("fuzz/corpus").join(target))
            .arg("--")
            .arg(format!("-max_total_time={}", options.seconds))
            .arg("-print_final_stats=1");
        if let Some(runs) = options.runs {
            command.arg(format!("-runs={runs}"));
        }
        exec(&mut command)?;
    }
    Ok(())
}
