//! The hidden measuring commands `cargo xtask bench-journal` runs as real processes: commits
//! on one long-lived handle (`bench-commits`) and cold loads (`bench-loads`), each printing
//! raw latencies as JSON so the task computes percentiles and ratios across processes.

use std::time::Instant;

use metrics_types::{AgentEvent, EventStatus, NewAgentEvent, Timestamp};
use serde_json::json;

use crate::commands::{Context, json};
use crate::error::CliError;

/// Records `count` events, one commit each, and prints every commit's latency (µs), which
/// of it was spent waiting for the lock, which commits ran a checkpoint, and the process's
/// CPU time.
pub(crate) fn commits(
    context: &mut Context,
    count: u32,
    prefix: &str,
    checkpoint_entries: usize,
) -> Result<String, CliError> {
    let policy = metrics_store::CheckpointPolicy {
        max_entries: checkpoint_entries,
        ..metrics_store::CheckpointPolicy::default()
    };
    let store = context.store_builder().checkpoint_policy(policy).open()?;
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
        .map_err(|err| CliError::InvalidInput { message: err.to_string() })?;
        let before = store.stats();
        let commit = Instant::now();
        let _ = store.record_event(event)?;
        latencies.push(commit.elapsed().as_secs_f64() * 1e6);
        let after = store.stats();
        waits.push((after.lock_wait_total - before.lock_wait_total).as_secs_f64() * 1e6);
        let checkpoints = before.checkpoints;
        if store.stats().checkpoints > checkpoints {
            checkpointed.push(index);
        }
    }
    let wall = started.elapsed().as_secs_f64();
    Ok(json(&json!({
        "latencies_us": latencies,
        "lock_waits_us": waits,
        "checkpointed": checkpointed,
        "wall_seconds": wall,
        "cpu_seconds": cpu_seconds().zip(cpu_before).map(|(after, before)| after - before),
    })))
}

/// Loads the store `count` times through fresh handles (as a CLI read does) and prints each
/// load's latency (µs).
pub(crate) fn loads(context: &mut Context, count: u32) -> Result<String, CliError> {
    let mut latencies = Vec::with_capacity(count as usize);
    let mut events = 0;
    for _ in 0..count {
        let store = context.open_store()?;
        let started = Instant::now();
        let loaded = store.load()?;
        latencies.push(started.elapsed().as_secs_f64() * 1e6);
        events = loaded.state.events().len();
    }
    Ok(json(&json!({ "latencies_us": latencies, "events": events })))
}

/// The process's user and system CPU time so far, from `/proc/self/stat` (Linux; `None`
/// elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // USER_HZ is 100 on every Linux configuration in use.
    Some(ticks / 100.0)
}
