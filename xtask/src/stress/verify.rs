//! The verdict of a stress run: pure checks over what the writers were told (acknowledgements)
//! and what the store holds at the end, so that they can be tested on made-up runs, lossy ones
//! included.

use std::collections::{BTreeMap, HashMap, HashSet};

/// What one writer sent and had acknowledged, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriterLog {
    /// Acknowledged event ids with their agents, in acknowledgement order.
    pub(crate) acked: Vec<(String, String)>,
    /// Events of writes that were in flight when the writer was killed (each was resent).
    pub(crate) in_flight: Vec<(String, String)>,
}

/// Everything the verifier looks at.
#[derive(Debug, Clone, Default)]
pub(crate) struct Observed {
    pub(crate) writers: Vec<WriterLog>,
    /// Ids of the last write acknowledged before the file was corrupted on purpose: the
    /// backup is one generation behind, so these may be gone after recovery.
    pub(crate) lost_to_corruption: HashSet<String>,
    /// Every id ever sent.
    pub(crate) sent: HashSet<String>,
    /// The stored event ids at the end, oldest first.
    pub(crate) stored: Vec<String>,
    /// `total_invocations` per agent at the end.
    pub(crate) agent_totals: BTreeMap<String, u64>,
    /// The store's event limit.
    pub(crate) max_events: usize,
}

/// One line of the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub(crate) name: &'static str,
    pub(crate) passed: bool,
    pub(crate) detail: String,
}

fn check(name: &'static str, problems: Vec<String>, ok_detail: String) -> Check {
    if problems.is_empty() {
        Check { name, passed: true, detail: ok_detail }
    } else {
        let shown: Vec<&str> = problems.iter().take(5).map(String::as_str).collect();
        let more = if problems.len() > 5 {
            format!(" (+{} more)", problems.len() - 5)
        } else {
            String::new()
        };
        Check { name, passed: false, detail: format!("{}{more}", shown.join("; ")) }
    }
}

pub(crate) fn verify(observed: &Observed) -> Vec<Check> {
    let stored: HashSet<&str> = observed.stored.iter().map(String::as_str).collect();
    vec![
        no_duplicates(observed),
        nothing_unsent(observed),
        acknowledged_present_or_evicted(observed, &stored),
        eviction_at_the_limit(observed),
        lifetime_totals(observed),
    ]
}

fn no_duplicates(observed: &Observed) -> Check {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in &observed.stored {
        *seen.entry(id).or_default() += 1;
    }
    let problems = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(id, n)| format!("{id} stored {n} times"))
        .collect();
    check(
        "no event stored twice",
        problems,
        format!("{} stored events, all distinct", observed.stored.len()),
    )
}

fn nothing_unsent(observed: &Observed) -> Check {
    let problems = observed
        .stored
        .iter()
        .filter(|id| !observed.sent.contains(*id))
        .map(|id| format!("{id} was never sent"))
        .collect();
    check("every stored event was sent", problems, "yes".to_owned())
}

/// Per writer, the stored acknowledged events must be a suffix of its acknowledged sequence:
/// eviction drops the oldest first, so an acknowledged event missing after a stored one was
/// lost.
fn acknowledged_present_or_evicted(observed: &Observed, stored: &HashSet<&str>) -> Check {
    let mut problems = Vec::new();
    let (mut present, mut evicted) = (0usize, 0usize);
    for (writer, log) in observed.writers.iter().enumerate() {
        let Some(first) = log.acked.iter().position(|(id, _)| stored.contains(id.as_str())) else {
            evicted += log.acked.len();
            continue;
        };
        evicted += first;
        for (id, _) in &log.acked[first..] {
            if stored.contains(id.as_str()) {
                present += 1;
            } else if !observed.lost_to_corruption.contains(id) {
                problems.push(format!(
                    "writer {writer}: acknowledged {id} is missing but a later one is stored"
                ));
            }
        }
    }
    check(
        "acknowledged events present, or evicted oldest first",
        problems,
        format!("{present} present, {evicted} evicted oldest-first"),
    )
}

fn eviction_at_the_limit(observed: &Observed) -> Check {
    let acked: HashSet<&str> = observed
        .writers
        .iter()
        .flat_map(|log| log.acked.iter().map(|(id, _)| id.as_str()))
        .collect();
    let recorded = acked.len().saturating_sub(observed.lost_to_corruption.len());
    let expected_min = recorded.min(observed.max_events);
    let stored = observed.stored.len();
    let problems = if stored > observed.max_events {
        vec![format!("{stored} events stored, more than the limit {}", observed.max_events)]
    } else if stored < expected_min {
        vec![format!(
            "{stored} events stored, fewer than min({recorded} recorded, limit {})",
            observed.max_events
        )]
    } else {
        Vec::new()
    };
    check(
        "events kept up to the limit",
        problems,
        format!("{stored} stored (limit {})", observed.max_events),
    )
}

/// Lifetime totals count evicted events too: each agent's total must equal its acknowledged
/// events, give or take the writes in flight at a kill (at most one per kill, resent) and the
/// write lost with a deliberately corrupted generation.
fn lifetime_totals(observed: &Observed) -> Check {
    let mut acked: BTreeMap<&str, u64> = BTreeMap::new();
    let mut slack: BTreeMap<&str, u64> = BTreeMap::new();
    let mut lost: BTreeMap<&str, u64> = BTreeMap::new();
    for log in &observed.writers {
        for (id, agent) in &log.acked {
            *acked.entry(agent).or_default() += 1;
            if observed.lost_to_corruption.contains(id) {
                *lost.entry(agent).or_default() += 1;
            }
        }
        for (_, agent) in &log.in_flight {
            *slack.entry(agent).or_default() += 1;
        }
    }
    let mut problems = Vec::new();
    let mut extras = 0;
    let agents: HashSet<&str> =
        acked.keys().copied().chain(observed.agent_totals.keys().map(String::as_str)).collect();
    for agent in agents {
        let total = observed.agent_totals.get(agent).copied().unwrap_or(0);
        let acked_n = acked.get(agent).copied().unwrap_or(0);
        let low = acked_n - lost.get(agent).copied().unwrap_or(0);
        let high = acked_n + slack.get(agent).copied().unwrap_or(0);
        if total < low {
            problems.push(format!(
                "{agent}: lifetime total {total} < {low} acknowledged: updates were lost"
            ));
        } else if total > high {
            problems.push(format!(
                "{agent}: lifetime total {total} > {high} (acknowledged + in flight): counted twice"
            ));
        }
        extras += total.saturating_sub(acked_n);
    }
    let acked_total: u64 = acked.values().sum();
    let lost_total: u64 = lost.values().sum();
    check(
        "per-agent lifetime totals equal acknowledged counts",
        problems,
        format!(
            "{acked_total} acknowledged, {extras} extra from writes in flight at a kill, \
             {lost_total} allowed lost with the corrupted generation"
        ),
    )
}

/// What one reader process reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReaderReport {
    pub(crate) reads: u64,
    /// Reads that were not a whole, valid generation (the file damaged or missing, so the
    /// backup was shown; or a rule broken), however many there were.
    pub(crate) damaged: u64,
    /// When each damaged read started and ended, in ns since the Unix epoch (the first
    /// 10 000).
    pub(crate) damaged_reads: Vec<(u128, u128)>,
    /// The first few problems, in words.
    pub(crate) errors: Vec<String>,
}

/// Readers read without any lock and without recovery, so a torn or invalid generation is a
/// damaged read. The only ones allowed overlap `window` (from the deliberate corruption to
/// the first acknowledged write after it, which recovered the file): a read that started
/// just before the corruption may still open the file while it is being corrupted (in
/// journal mode a read opens the journal first, then the file).
pub(crate) fn readers_saw_only_whole_generations(
    readers: &[ReaderReport],
    window: Option<(u128, u128)>,
) -> Check {
    let reads: u64 = readers.iter().map(|r| r.reads).sum();
    let damaged: u64 = readers.iter().map(|r| r.damaged).sum();
    let overlaps =
        |(start, end): &(u128, u128)| window.is_some_and(|(from, to)| *start <= to && *end >= from);
    let allowed: u64 = readers
        .iter()
        .map(|r| r.damaged_reads.iter().filter(|read| overlaps(read)).count() as u64)
        .sum();
    let unexplained = damaged - allowed.min(damaged);
    let problems = if unexplained == 0 {
        Vec::new()
    } else {
        let examples: Vec<&str> =
            readers.iter().flat_map(|r| r.errors.iter().map(String::as_str)).take(3).collect();
        vec![format!(
            "{unexplained} of {reads} lock-free reads saw a damaged or invalid file outside the corruption window: {}",
            examples.join("; ")
        )]
    };
    check(
        "lock-free readers saw only whole, valid generations",
        problems,
        format!("{reads} reads, {allowed} damaged inside the deliberate corruption window"),
    )
}

#[cfg(test)]
mod tests;
