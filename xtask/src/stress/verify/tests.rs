//! The verifier on made-up runs: clean ones pass, lossy, duplicating and double-counting ones fail.

use std::collections::{BTreeMap, HashSet};

use super::{Observed, WriterLog, verify};

fn ack(id: &str, agent: &str) -> (String, String) {
    (id.to_owned(), agent.to_owned())
}

/// Two writers, each acknowledged 4 events; the store keeps the newest `limit` in the order
/// given by `stored`, and per-agent totals from `totals`.
fn observed(stored: &[&str], totals: &[(&str, u64)], limit: usize) -> Observed {
    let writers = vec![
        WriterLog {
            acked: ["a0", "a1", "a2", "a3"].map(|id| ack(id, "x")).to_vec(),
            in_flight: vec![],
        },
        WriterLog {
            acked: ["b0", "b1", "b2", "b3"].map(|id| ack(id, "y")).to_vec(),
            in_flight: vec![],
        },
    ];
    let sent: HashSet<String> =
        writers.iter().flat_map(|w| w.acked.iter().map(|(id, _)| id.clone())).collect();
    Observed {
        writers,
        lost_to_corruption: HashSet::new(),
        sent,
        stored: stored.iter().map(|id| (*id).to_owned()).collect(),
        agent_totals: totals
            .iter()
            .map(|(agent, n)| ((*agent).to_owned(), *n))
            .collect::<BTreeMap<_, _>>(),
        max_events: limit,
    }
}

fn failures(observed: &Observed) -> Vec<&'static str> {
    verify(observed).into_iter().filter(|check| !check.passed).map(|check| check.name).collect()
}

#[test]
fn a_clean_run_passes() {
    let run =
        observed(&["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"], &[("x", 4), ("y", 4)], 500);
    assert!(failures(&run).is_empty(), "{:?}", verify(&run));
}

#[test]
fn fifo_eviction_passes() {
    let run = observed(&["a2", "b2", "a3", "b3"], &[("x", 4), ("y", 4)], 4);
    assert!(failures(&run).is_empty(), "{:?}", verify(&run));
}

#[test]
fn a_writer_that_acknowledges_without_writing_fails() {
    // b1 was acknowledged but never written: it is missing while b2 is stored, and y's
    // lifetime total is one short.
    let run = observed(&["a0", "b0", "a1", "a2", "b2", "a3", "b3"], &[("x", 4), ("y", 3)], 500);
    assert_eq!(
        failures(&run),
        [
            "acknowledged events present, or evicted oldest first",
            "events kept up to the limit",
            "per-agent lifetime totals equal acknowledged counts"
        ]
    );
}

#[test]
fn a_lost_update_hidden_by_eviction_is_caught_by_the_totals() {
    // Everything of y's that remains is a suffix, but its total shows one update lost.
    let run = observed(&["a2", "b2", "a3", "b3"], &[("x", 4), ("y", 3)], 4);
    assert_eq!(failures(&run), ["per-agent lifetime totals equal acknowledged counts"]);
}

#[test]
fn duplicates_and_phantoms_fail() {
    let run = observed(
        &["a0", "a0", "b0", "zz", "a1", "b1", "a2", "b2", "a3", "b3"],
        &[("x", 4), ("y", 4)],
        500,
    );
    assert_eq!(failures(&run), ["no event stored twice", "every stored event was sent"]);
}

#[test]
fn double_counting_beyond_the_in_flight_slack_fails() {
    let mut run =
        observed(&["a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3"], &[("x", 6), ("y", 4)], 500);
    run.writers[0].in_flight.push(ack("a3", "x"));
    assert_eq!(failures(&run), ["per-agent lifetime totals equal acknowledged counts"]);
    run.writers[0].in_flight.push(ack("a2", "x"));
    assert!(failures(&run).is_empty(), "two kills allow two extra");
}

#[test]
fn the_write_lost_with_a_corrupted_generation_is_allowed() {
    let mut run = observed(&["a0", "b0", "a1", "b1", "a2", "b2", "b3"], &[("x", 3), ("y", 4)], 500);
    run.lost_to_corruption.insert("a3".to_owned());
    assert!(failures(&run).is_empty(), "{:?}", verify(&run));
}

/// A reader whose damaged reads each took 10 ns from the given starts.
fn reader(damaged_starts: &[u128]) -> super::ReaderReport {
    super::ReaderReport {
        reads: 100,
        damaged: damaged_starts.len() as u64,
        damaged_reads: damaged_starts.iter().map(|start| (*start, start + 10)).collect(),
        errors: vec!["torn".to_owned(); damaged_starts.len().min(1)],
    }
}

#[test]
fn readers_pass_when_every_read_was_whole() {
    let check = super::readers_saw_only_whole_generations(&[reader(&[]), reader(&[])], None);
    assert!(check.passed, "{check:?}");
}

#[test]
fn a_torn_read_fails_the_run() {
    let check = super::readers_saw_only_whole_generations(&[reader(&[]), reader(&[500])], None);
    assert!(!check.passed, "a damaged read without a corruption is a torn read");
    assert!(check.detail.contains("1 of 200"), "{}", check.detail);
}

#[test]
fn only_reads_inside_the_corruption_window_are_allowed() {
    let window = Some((1_000, 2_000));
    let inside =
        super::readers_saw_only_whole_generations(&[reader(&[1_000, 1_500, 2_000])], window);
    assert!(inside.passed, "{inside:?}");
    let outside = super::readers_saw_only_whole_generations(&[reader(&[1_500, 2_001])], window);
    assert!(!outside.passed, "a damaged read after the recovery is a torn read");
    let before = super::readers_saw_only_whole_generations(&[reader(&[985])], window);
    assert!(!before.passed, "a damaged read that ended before the corruption is a torn read");
}

#[test]
fn a_read_that_started_before_the_corruption_and_saw_it_is_allowed() {
    let window = Some((1_000, 2_000));
    let straddling = super::ReaderReport { damaged_reads: vec![(995, 1_003)], ..reader(&[995]) };
    let check = super::readers_saw_only_whole_generations(&[straddling], window);
    assert!(check.passed, "{check:?}");
}
