//! Longer histories, generated and sampled with a seed: random updates (single events,
//! batches, sessions, retried duplicates) under small limits so that eviction runs, with a
//! sample of the crash images at every point, each crashed again while reopening.
//!
//! `AGENT_METRICS_CRASH_SEED` and `AGENT_METRICS_CRASH_ITERATIONS` choose the histories.
//! `cargo test` runs one representative history (so a regression still fails there, in
//! seconds); `cargo xtask crash --iterations N` runs many in release mode, and CI runs 10.
//! A failure prints the seed.

use metrics_store::MetricsStore;
use metrics_types::Limits;

use super::harness::{Coverage, Depth, check_crashes};
use super::{report, run_with, store_with_history};
use crate::support::{event, session};

/// The limits of the generated histories: small, so that evictions happen.
const LIMITS: Limits = Limits { max_events: 6, max_sessions: 2 };

/// Images checked per crash point.
const IMAGES_PER_POINT: usize = 3;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |value| {
        value.parse().unwrap_or_else(|_| panic!("{name} must be a number, not {value:?}"))
    })
}

/// One random update; returns whether it wrote.
fn random_update(store: &MetricsStore, rng: &mut fastrand::Rng, next_id: &mut usize) -> bool {
    let agents = ["coding", "review", "testing"];
    let mut fresh_id = || {
        *next_id += 1;
        format!("h{next_id}")
    };
    match rng.u8(0..10) {
        0..=4 => {
            let agent = agents[rng.usize(..agents.len())];
            let id = fresh_id();
            store.record_event(event(&id, agent)).unwrap()
                != metrics_types::RecordOutcome::Duplicate
        }
        5..=6 => {
            let batch = (0..rng.usize(2..5))
                .map(|_| event(&fresh_id(), agents[rng.usize(..agents.len())]))
                .collect();
            store.record_events(batch).unwrap().recorded > 0
        }
        7..=8 => {
            let id = format!("s{}", fresh_id());
            store.record_session(session(&id)).unwrap() != metrics_types::RecordOutcome::Duplicate
        }
        _ => {
            // A retry of an event already stored (or evicted): written only if it was evicted.
            let id = format!("h{}", rng.usize(1..=(*next_id).max(1)));
            store.record_event(event(&id, "coding")).unwrap()
                != metrics_types::RecordOutcome::Duplicate
        }
    }
}

fn one_history(seed: u64) -> Coverage {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (dir, mut expect) = store_with_history();
    let updates = rng.usize(5..10);
    let simulation = run_with(
        dir.path(),
        &mut expect,
        LIMITS,
        |_| {},
        |store, acknowledged| {
            let mut next_id = 0;
            for _ in 0..updates {
                if random_update(store, &mut rng, &mut next_id) {
                    acknowledged();
                }
            }
        },
    );
    check_crashes(&simulation, &expect, Depth::sampled(IMAGES_PER_POINT, seed)).unwrap_or_else(
        |violation| {
            panic!(
                "history with seed {seed}: {violation}\n\
                 replay: AGENT_METRICS_CRASH_SEED={seed} AGENT_METRICS_CRASH_ITERATIONS=1 \
                 cargo test -p agent-metrics-store --test it crash::history"
            )
        },
    )
}

#[test]
fn sampled_histories_survive_every_sampled_crash() {
    let seed = env_or("AGENT_METRICS_CRASH_SEED", 0x00c0_ffee);
    let iterations = env_or("AGENT_METRICS_CRASH_ITERATIONS", 1);
    let mut total = Coverage::default();
    for iteration in 0..iterations {
        let coverage = one_history(seed.wrapping_add(iteration));
        total.crash_points += coverage.crash_points;
        total.images += coverage.images;
        total.second_crash_images += coverage.second_crash_images;
    }
    report(&format!("{iterations} sampled histories from seed {seed}"), total);
    assert!(total.crash_points > 0);
}
