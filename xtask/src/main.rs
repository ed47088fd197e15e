//! `cargo xtask`: the workspace's developer tasks, written in Rust so they run wherever cargo
//! does.
//!
//! Invoked as `cargo xtask <task>` through the alias in `.cargo/config.toml`. `main` only parses
//! the command line and dispatches to one module per task; `cargo xtask --help` lists them.
//! The tidy checks live in `tidy.rs` as `#[test]` functions, so plain `cargo test` enforces them.

mod bench_journal;
mod bench_serve;
mod ci;
mod cmd;
mod crash;
mod e2e;
mod fuzz;
mod package;
mod stress;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Developer tasks for the agent-metrics workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run every check CI runs: fmt, clippy, test, doc, package, deny, loom, stress, crash, e2e
    Ci {
        /// Skip a step (repeatable): fmt, clippy, test, doc, package, deny, loom, stress, crash, e2e
        #[arg(long, value_name = "STEP")]
        skip: Vec<String>,
    },
    /// Multiprocess stress and chaos test of the real binary: proves no acknowledged update is lost
    Stress(stress::Options),
    /// Crash-consistency and I/O-fault suites on the simulated disk, with many sampled histories
    Crash(crash::Options),
    /// Run the cargo-fuzz targets (loader, journal, entries, writer input, file verdict) for N seconds or runs each (nightly)
    Fuzz(fuzz::Options),
    /// Package the publishable crates and build a downstream crate on the tarballs of types and atomic-fs alone
    Package,
    /// Model-check the write protocol with loom (every interleaving of a few threads)
    Loom,
    /// Run every criterion benchmark; each prints its ratios to the floor measured in the same run
    Bench,
    /// The server's ingest (1, 4, 16 HTTP clients) against CLI processes and SQLite, in one run (markdown)
    BenchServe(bench_serve::Options),
    /// The server against a real Prometheus and a real headless Chromium (installs them with apt-get)
    E2e(e2e::Options),
    /// Journal mode against whole-file mode, the fsync floor and SQLite, in one run (markdown)
    BenchJournal(bench_journal::Options),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Ci { skip } => ci::run(&skip),
        Task::Stress(options) => stress::run(&options),
        Task::Crash(options) => crash::run(&options),
        Task::Fuzz(options) => fuzz::run(&options),
        Task::Loom => ci::loom(),
        Task::Package => package::run(),
        // The benchmark package alone: its dev-dependencies name the crates without the test
        // features, so the figures are for the code users get.
        Task::Bench => cmd::exec(&mut cmd::cargo(&["bench", "-p", "agent-metrics-benches"])),
        Task::BenchJournal(options) => bench_journal::run(&options),
        Task::E2e(options) => e2e::run(&options),
        Task::BenchServe(options) => bench_serve::run(&options),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            report_error(&message);
            ExitCode::FAILURE
        }
    }
}

#[expect(clippy::print_stderr, reason = "xtask is a command-line tool")]
fn report_error(message: &str) {
    eprintln!("xtask: {message}");
}
