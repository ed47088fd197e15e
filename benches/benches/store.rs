//! The store against floors measured in the same run.
//!
//! - `record_event/store` vs `record_event/floor`: a durable `record_event` on a long-lived
//!   handle whose store holds 500 events, against the bare atomic replace of the same bytes
//!   (temporary write + `fdatasync` + rename + directory `fsync`, written with `std`).
//! - `record_event/seed_design`: what the Python seed did per update (read, parse, modify,
//!   pretty-print, write a full backup copy durably, write the file durably), for comparison.
//! - `batch/100_events` vs `batch/1_event`: one durable write of 100 events against one event.
//! - `load/validated` vs `load/parse_only`: `DashboardState::from_json` (parse + validate) of a
//!   500-event file against the typed parse alone; `load/store` is `MetricsStore::load`.
//!
//! The ratios are printed after the runs; `docs/benchmarks.md` records them.

use std::path::Path;

use agent_metrics_benches::{floor_replace, mean_ns};
use criterion::{BatchSize, Criterion};
use metrics_store::MetricsStore;
use metrics_types::{AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, Timestamp};

fn event(idx: u64) -> AgentEvent {
    let agents = ["coding", "github", "linear", "review"];
    let status = if idx.is_multiple_of(5) { EventStatus::Error } else { EventStatus::Success };
    let start = Timestamp::from_unix_seconds(1_771_000_000 + idx as i64).unwrap();
    AgentEvent::new(NewAgentEvent {
        session_id: format!("sess-{:04}", idx / 40),
        ticket_key: format!("AI-{}", idx % 97),
        input_tokens: 1000 + idx % 3000,
        output_tokens: 200 + idx % 800,
        estimated_cost_usd: 0.0123,
        duration_seconds: 12.5 + (idx % 60) as f64,
        artifacts: vec![format!("file:src/module_{}.rs", idx % 13), format!("commit:{idx:07x}")],
        model_used: "claude-sonnet-4-5".to_owned(),
        ..NewAgentEvent::new(&format!("evt-{idx:08}"), agents[(idx % 4) as usize], status, start)
    })
    .unwrap()
}

/// A store on disk already holding `Limits::DEFAULT.max_events` events.
fn full_store(dir: &Path) -> MetricsStore {
    let store = MetricsStore::open(&dir.join(".agent_metrics.json")).unwrap();
    let _ = store.record_events((0..500).map(event).collect()).unwrap();
    store
}

/// The Python seed's update: re-read and re-parse, pretty-print, durable backup copy, durable
/// write.
fn seed_update(target: &Path, event: AgentEvent) {
    let old = std::fs::read(target).unwrap();
    let mut state = DashboardState::from_json(&old, &Limits::DEFAULT).unwrap();
    let _ = state.record_event(event, &Limits::DEFAULT);
    let bytes = state.to_json_pretty();
    floor_replace(&target.with_extension("seed-bak"), &old);
    floor_replace(target, &bytes);
}

fn benches(c: &mut Criterion, dir: &Path) {
    let store = full_store(dir);
    let mut next_id = 1_000_000u64;
    let state_bytes = std::fs::read(store.path()).unwrap();

    let mut group = c.benchmark_group("record_event");
    group.bench_function("store", |b| {
        b.iter(|| {
            next_id += 1;
            store.record_event(event(next_id)).unwrap()
        })
    });
    let floor_target = dir.join("floor.json");
    group.bench_function("floor", |b| b.iter(|| floor_replace(&floor_target, &state_bytes)));
    let seed_target = dir.join("seed.json");
    floor_replace(&seed_target, &state_bytes);
    group.bench_function("seed_design", |b| {
        b.iter(|| {
            next_id += 1;
            seed_update(&seed_target, event(next_id))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("batch");
    group.bench_function("1_event", |b| {
        b.iter(|| {
            next_id += 1;
            store.record_event(event(next_id)).unwrap()
        })
    });
    group.bench_function("100_events", |b| {
        b.iter_batched(
            || {
                next_id += 100;
                (next_id - 100..next_id).map(event).collect::<Vec<_>>()
            },
            |events| store.record_events(events).unwrap(),
            BatchSize::SmallInput,
        )
    });
    group.finish();

    let bytes = std::fs::read(store.path()).unwrap();
    let mut group = c.benchmark_group("load");
    group.bench_function("parse_only", |b| {
        b.iter(|| DashboardState::from_json_unvalidated(&bytes).unwrap())
    });
    group.bench_function("validated", |b| {
        b.iter(|| DashboardState::from_json(&bytes, &Limits::DEFAULT).unwrap())
    });
    group.bench_function("store", |b| b.iter(|| store.load().unwrap()));
    group.finish();
    eprintln_stats(&store, state_bytes.len());
}

#[expect(clippy::print_stderr, reason = "a benchmark reports its context")]
fn eprintln_stats(store: &MetricsStore, bytes: usize) {
    eprintln!("store file: {bytes} bytes with 500 events; handle stats: {:?}", store.stats());
}

#[expect(clippy::print_stdout, reason = "a benchmark reports its results")]
fn print_ratios() {
    println!("\nratios in this run (mean / mean):");
    let ratios = [
        (
            "record_event/store vs floor (target <= 2x)",
            ("record_event", "store"),
            ("record_event", "floor"),
        ),
        (
            "record_event/seed_design vs floor",
            ("record_event", "seed_design"),
            ("record_event", "floor"),
        ),
        (
            "batch/100_events vs batch/1_event (target <= 1.5x)",
            ("batch", "100_events"),
            ("batch", "1_event"),
        ),
        (
            "load/validated vs load/parse_only (target <= 1.15x)",
            ("load", "validated"),
            ("load", "parse_only"),
        ),
    ];
    for (label, (group, name), (floor_group, floor_name)) in ratios {
        if let (Some(value), Some(floor)) = (mean_ns(group, name), mean_ns(floor_group, floor_name))
        {
            println!(
                "  {label:<52} {:>8.3} ms / {:>8.3} ms = {:.2}x",
                value / 1e6,
                floor / 1e6,
                value / floor
            );
        }
    }
}

fn main() {
    let dir =
        tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into())).unwrap();
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion, dir.path());
    criterion.final_summary();
    print_ratios();
}
