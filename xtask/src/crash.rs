//! `cargo xtask crash`: the crash-consistency and I/O-fault suites on the simulated disk
//! (`atomic_fs::sim`), in release mode, with many more sampled histories than `cargo test`
//! runs, and every report (coverage, mutants caught, the real ENOSPC test) shown.

use crate::cmd::{cargo, exec};

/// Options of `cargo xtask crash`.
#[derive(Debug, clap::Args)]
pub(crate) struct Options {
    /// How many sampled histories to crash (each 5 to 9 updates, 3 images per crash point,
    /// each image reopened and crashed again)
    #[arg(long, default_value_t = 200)]
    pub(crate) iterations: u64,
    /// The seed of the first history (default: from the clock, printed so a run can be
    /// replayed)
    #[arg(long)]
    pub(crate) seed: Option<u64>,
}

#[expect(clippy::print_stderr, reason = "xtask prints the seed so a failure can be replayed")]
pub(crate) fn run(options: &Options) -> Result<(), String> {
    let seed = options.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs())
    });
    eprintln!(
        "crash suite: {} sampled histories from seed {seed} (replay with --seed {seed})",
        options.iterations
    );
    exec(&mut cargo(&[
        "test",
        "--release",
        "-p",
        "agent-metrics-atomic-fs",
        "--test",
        "it",
        "simulated",
        "--",
        "--nocapture",
    ]))?;
    exec(
        cargo(&[
            "test",
            "--release",
            "-p",
            "agent-metrics-store",
            "--test",
            "it",
            "--",
            "crash::",
            "io_faults::",
            "--nocapture",
        ])
        .env("AGENT_METRICS_CRASH_ITERATIONS", options.iterations.to_string())
        .env("AGENT_METRICS_CRASH_SEED", seed.to_string()),
    )
}
