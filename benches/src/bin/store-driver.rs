//! `store-driver`: the measuring and stress processes `cargo xtask bench-journal` and
//! `cargo xtask stress` run beside the `agent-metrics` binary, kept out of that binary (no
//! test machinery in the product). Each prints one JSON object on standard output:
//!
//! - `commits`: records `--count` events on one long-lived handle, one commit each; every
//!   commit's latency (µs), its lock wait, which commits ran a checkpoint, the process's CPU;
//! - `loads`: loads the store `--count` times through fresh handles, as a CLI read does;
//! - `reader`: loads and validates the store in a loop (no lock, no recovery, as every read
//!   command) until `--until-exists PATH` exists; counts reads, damaged reads (with their
//!   start and end, ns since the Unix epoch) and empty ones.

#![expect(clippy::print_stdout, reason = "the JSON report is the program's output")]

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand};
use metrics_store::{CheckpointPolicy, MetricsStore, StoreError};
use metrics_types::{AgentEvent, EventStatus, Limits, NewAgentEvent, Timestamp};
use serde_json::json;

#[derive(Debug, Parser)]
struct Args {
    /// The store file.
    #[arg(long)]
    file: PathBuf,
    /// How many events the store keeps (the CLI's --max-events).
    #[arg(long, default_value_t = Limits::DEFAULT.max_events)]
    max_events: usize,
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Commits on one long-lived handle, each timed.
    Commits {
        #[arg(long)]
        count: u32,
        /// Makes this writer's event ids unique.
        #[arg(long)]
        prefix: String,
        /// Checkpoint after this many journal entries (journal mode).
        #[arg(long, default_value_t = metrics_store::DEFAULT_CHECKPOINT_ENTRIES)]
        checkpoint_entries: usize,
    },
    /// Cold loads through fresh handles.
    Loads {
        #[arg(long)]
        count: u32,
    },
    /// Lock-free validated loads until a file exists.
    Reader {
        #[arg(long)]
        until_exists: PathBuf,
    },
}

fn main() -> Result<(), StoreError> {
    let args = Args::parse();
    let limits = Limits { max_events: args.max_events, ..Limits::DEFAULT };
    let report = match &args.task {
        Task::Commits { count, prefix, checkpoint_entries } => {
            let policy = CheckpointPolicy {
                max_entries: *checkpoint_entries,
                ..CheckpointPolicy::default()
            };
            let store = MetricsStore::builder(&args.file)
                .limits(limits)
                .checkpoint_policy(policy)
                .open()?;
            commits(&store, *count, prefix)?
        }
        Task::Loads { count } => loads(&args.file, limits, *count)?,
        Task::Reader { until_exists } => reader(&MetricsStore::open(&args.file)?, until_exists),
    };
    println!("{report}");
    Ok(())
}

fn commits(
    store: &MetricsStore,
    count: u32,
    prefix: &str,
) -> Result<serde_json::Value, StoreError> {
    let mut latencies = Vec::with_capacity(count as usize);
    let mut checkpointed = Vec::new();
    let mut waits = Vec::with_capacity(count as usize);
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    for index in 0..count {
        let event = AgentEvent::new(NewAgentEvent {
            input_tokens: 1200,
            output_tokens: 300,
            estimated_cost_usd: 0.02,
            duration_seconds: 30.0,
            model_used: "claude-sonnet-4-5".to_owned(),
            ticket_key: "AI-7".to_owned(),
            session_id: "bench".to_owned(),
            ..NewAgentEvent::new(
                &format!("{prefix}-{index}"),
                "coding",
                EventStatus::Success,
                Timestamp::now(),
            )
        })
        .expect("a valid benchmark event");
        let before = store.stats();
        let commit = Instant::now();
        let _ = store.record_event(event)?;
        latencies.push(commit.elapsed().as_secs_f64() * 1e6);
        let after = store.stats();
        waits.push((after.lock_wait_total - before.lock_wait_total).as_secs_f64() * 1e6);
        if after.checkpoints > before.checkpoints {
            checkpointed.push(index);
        }
    }
    Ok(json!({
        "latencies_us": latencies,
        "lock_waits_us": waits,
        "checkpointed": checkpointed,
        "wall_seconds": started.elapsed().as_secs_f64(),
        "cpu_seconds": cpu_seconds().zip(cpu_before).map(|(after, before)| after - before),
    }))
}

fn loads(path: &Path, limits: Limits, count: u32) -> Result<serde_json::Value, StoreError> {
    let mut latencies = Vec::with_capacity(count as usize);
    let mut events = 0;
    for _ in 0..count {
        let store = MetricsStore::builder(path).limits(limits).open()?;
        let started = Instant::now();
        let loaded = store.load()?;
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        events = loaded.state.events().len();
    }
    Ok(json!({ "latencies_us": latencies, "events": events }))
}

fn reader(store: &MetricsStore, stop: &Path) -> serde_json::Value {
    let limits = Limits { max_events: usize::MAX, max_sessions: usize::MAX };
    let (mut reads, mut damaged, mut empty) = (0u64, 0u64, 0u64);
    let mut damaged_reads: Vec<(u128, u128)> = Vec::new();
    let now_ns = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos())
    };
    let mut first_errors: Vec<String> = Vec::new();
    while !stop.exists() {
        reads += 1;
        let started = now_ns();
        let problem = match store.load() {
            Ok(loaded) => {
                empty += u64::from(loaded.state.events().is_empty());
                match (&loaded.fallback, loaded.state.validate(&limits)) {
                    (Some(fallback), _) => Some(fallback.to_string()),
                    (None, Err(err)) => Some(err.to_string()),
                    (None, Ok(())) => None,
                }
            }
            Err(err) => Some(err.to_string()),
        };
        if let Some(problem) = problem {
            damaged += 1;
            if damaged_reads.len() < 10_000 {
                damaged_reads.push((started, now_ns()));
            }
            if first_errors.len() < 5 {
                first_errors.push(problem);
            }
        }
    }
    json!({
        "reads": reads,
        "damaged": damaged,
        "damaged_reads": damaged_reads,
        "empty": empty,
        "errors": first_errors,
    })
}

/// The process's user and system CPU time so far, from `/proc/self/stat` (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
