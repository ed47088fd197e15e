//! The pure state transitions: recording events and sessions, FIFO eviction, and the roll-up of
//! an agent's profile and the project totals.
//!
//! Everything here is deterministic and does no I/O, so the rules can be tested (and
//! property-tested) without a file.

use std::collections::HashSet;

use crate::state::FieldIndex;
use crate::validate::agent_path;
use crate::{
    AgentEvent, AgentProfile, DashboardState, Level, Limits, RECENT_EVENTS_LIMIT, SessionSummary,
    ValidationError, Violation,
};

/// What recording one event or session did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum RecordOutcome {
    /// It was added; `evicted` older entries were dropped to stay within the limits.
    Recorded {
        /// How many of the oldest entries were evicted.
        evicted: usize,
    },
    /// An entry with the same id is already stored: nothing changed (a retried write).
    Duplicate,
}

/// What recording a batch of events did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BatchOutcome {
    /// Events added.
    pub recorded: usize,
    /// Events skipped because their id was already stored (or repeated within the batch).
    pub duplicates: usize,
    /// Older events evicted to stay within the limit.
    pub evicted: usize,
    /// The ids counted in `duplicates`, in batch order, so a caller that merged several
    /// requests into one batch can answer each of them.
    pub duplicate_ids: Vec<String>,
}

/// Achievements and the rule that earns each; earned badges are never removed.
///
/// | id | earned by |
/// |---|---|
/// | `first_blood` | the first success |
/// | `hat_trick` | a streak of 3 successes |
/// | `on_fire` | a streak of 10 successes |
/// | `centurion` | 100 successes |
/// | `token_millionaire` | 1 000 000 lifetime tokens |
pub const ACHIEVEMENTS: [&str; 5] =
    ["first_blood", "hat_trick", "on_fire", "centurion", "token_millionaire"];

/// Strengths this version computes (others written by other tools are kept):
/// `fast_execution` (mean duration at most 15 s), `reliable` (at least 10 invocations with a
/// success rate of 95% or more), `frugal` (at least 5 successes costing at most $0.01 each).
pub const STRENGTHS: [&str; 3] = ["fast_execution", "reliable", "frugal"];

/// Weaknesses this version computes (others written by other tools are kept):
/// `high_error_rate` (at least 3 invocations with a success rate under 70%), `slow_execution`
/// (mean duration over 300 s), `expensive` (at least 3 successes costing over $1 each).
pub const WEAKNESSES: [&str; 3] = ["high_error_rate", "slow_execution", "expensive"];

impl DashboardState {
    /// Records one event: appends it, evicts the oldest events beyond `limits.max_events`, and
    /// rolls the event into its agent's profile and the project totals.
    ///
    /// An event whose id is already stored (in `events`, or among its agent's
    /// `recent_events`) changes nothing and returns [`RecordOutcome::Duplicate`], so a retried
    /// write is never counted twice.
    ///
    /// Fails, changing nothing, when a total it adds to would overflow, or when a value it
    /// would rewrite could not be read from the file (a profile or total holding a string
    /// where a number belongs, say): overwriting it would lose what the file said, so it must
    /// be mended by hand first. The error names the path.
    ///
    /// ```
    /// use metrics_types::{AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent, RecordOutcome};
    ///
    /// let start = "2026-02-14T17:10:00+00:00".parse().unwrap();
    /// let event = AgentEvent::new(NewAgentEvent::new("e1", "coding", EventStatus::Success, start)).unwrap();
    /// let mut state = DashboardState::new("demo");
    /// assert_eq!(state.record_event(event.clone(), &Limits::DEFAULT)?, RecordOutcome::Recorded { evicted: 0 });
    /// assert_eq!(state.record_event(event, &Limits::DEFAULT)?, RecordOutcome::Duplicate);
    /// assert_eq!(state.agents()["coding"].xp(), 11);
    /// # Ok::<(), metrics_types::ValidationError>(())
    /// ```
    pub fn record_event(
        &mut self,
        event: AgentEvent,
        limits: &Limits,
    ) -> Result<RecordOutcome, ValidationError> {
        if self.is_duplicate_event(&event) {
            return Ok(RecordOutcome::Duplicate);
        }
        self.append_event(event)?;
        Ok(RecordOutcome::Recorded { evicted: evict_oldest(&mut self.events, limits.max_events) })
    }

    /// Records many events in order, as [`DashboardState::record_event`] would one by one
    /// (the same state at the end), in time linear in the batch plus the store.
    /// On an error the state may hold the events before the failing one: callers that need
    /// all or nothing (the store does) discard the state.
    pub fn record_events(
        &mut self,
        events: Vec<AgentEvent>,
        limits: &Limits,
    ) -> Result<BatchOutcome, ValidationError> {
        // One index of the stored ids and one eviction at the end keep a batch linear in
        // the batch and the store, not their product. An id evicted by an earlier event of
        // the same batch still counts as stored: a retry is never counted twice.
        let mut known: HashSet<String> =
            self.events.iter().map(|event| event.event_id.clone()).collect();
        let mut outcome = BatchOutcome::default();
        for event in events {
            let in_profile = self
                .agents
                .get(&event.agent_name)
                .is_some_and(|profile| profile.recent_events.contains(&event.event_id));
            if in_profile || !known.insert(event.event_id.clone()) {
                outcome.duplicates += 1;
                outcome.duplicate_ids.push(event.event_id);
                continue;
            }
            self.append_event(event)?;
            outcome.recorded += 1;
        }
        outcome.evicted = evict_oldest(&mut self.events, limits.max_events);
        Ok(outcome)
    }

    /// Records a session summary: appends it, evicts the oldest beyond `limits.max_sessions`,
    /// and counts it in `total_sessions`. A session id already stored changes nothing.
    pub fn record_session(
        &mut self,
        session: SessionSummary,
        limits: &Limits,
    ) -> Result<RecordOutcome, ValidationError> {
        if self.sessions.iter().any(|stored| stored.session_id == session.session_id) {
            return Ok(RecordOutcome::Duplicate);
        }
        refuse_unreadable(
            &self.wire,
            DashboardState::FIELD_NAMES,
            &[FieldIndex::total_sessions],
            &String::new,
        )?;
        self.total_sessions =
            checked_count(|| "total_sessions".to_owned(), self.total_sessions, 1)?;
        self.wire.set(FieldIndex::total_sessions as usize);
        self.sessions.push(session);
        Ok(RecordOutcome::Recorded {
            evicted: evict_oldest(&mut self.sessions, limits.max_sessions),
        })
    }

    /// Drops the oldest events and sessions beyond `limits`, e.g. after lowering the limits.
    /// Profiles and totals keep counting what was dropped.
    pub fn enforce_limits(&mut self, limits: &Limits) -> usize {
        evict_oldest(&mut self.events, limits.max_events)
            + evict_oldest(&mut self.sessions, limits.max_sessions)
    }

    /// Adds one event that is not a duplicate: totals, its agent's profile, the list. Fails
    /// changing nothing, or changes everything.
    pub(crate) fn append_event(&mut self, event: AgentEvent) -> Result<(), ValidationError> {
        let totals = [
            FieldIndex::total_tokens,
            FieldIndex::total_cost_usd,
            FieldIndex::total_duration_seconds,
        ];
        refuse_unreadable(&self.wire, DashboardState::FIELD_NAMES, &totals, &String::new)?;
        let total_tokens =
            checked_count(|| "total_tokens".to_owned(), self.total_tokens, event.total_tokens)?;
        if let Some(profile) = self.agents.get(&event.agent_name)
            && profile.wire.has_unreadable()
        {
            let path = crate::validate::agent_path(&event.agent_name);
            return Err(unreadable_error(path, "the event would rewrite it"));
        }
        let profile = self
            .agents
            .entry(event.agent_name.clone())
            .or_insert_with(|| AgentProfile::named(&event.agent_name));
        roll_up(profile, &event)?;

        // Nothing below can fail: the totals change only once the profile did.
        self.total_tokens = total_tokens;
        self.total_cost_usd += event.estimated_cost_usd;
        self.total_duration_seconds += event.duration_seconds;
        for field in totals {
            self.wire.set(field as usize);
        }
        self.events.push(event);
        Ok(())
    }

    fn is_duplicate_event(&self, event: &AgentEvent) -> bool {
        let in_profile = self
            .agents
            .get(&event.agent_name)
            .is_some_and(|profile| profile.recent_events.contains(&event.event_id));
        in_profile || self.contains_event(&event.event_id)
    }
}

/// `count + added`, or an error naming the field (`path` builds it, only then) when it would
/// overflow.
fn checked_count(
    path: impl FnOnce() -> String,
    count: i64,
    added: i64,
) -> Result<i64, ValidationError> {
    count.checked_add(added).ok_or_else(|| ValidationError::Invalid {
        violations: vec![Violation {
            path: path(),
            message: format!(
                "would overflow: {count} + {added} is more than the largest count ({})",
                i64::MAX
            ),
        }],
    })
}

fn unreadable_error(path: String, why: &str) -> ValidationError {
    let message = format!(
        "holds a value that cannot be read, which {why}; mend it by hand (`agent-metrics check` lists it)"
    );
    ValidationError::Invalid { violations: vec![Violation { path, message }] }
}

/// Fails when one of `fields` of a record could not be read from the file.
fn refuse_unreadable<F: Copy + Into<usize>>(
    wire: &crate::wire::WireNotes,
    names: &[&str],
    fields: &[F],
    prefix: crate::validate::Prefix<'_>,
) -> Result<(), ValidationError> {
    for field in fields {
        let idx: usize = (*field).into();
        if matches!(wire.note(idx), Some(crate::wire::Note::Unreadable(_))) {
            let path = crate::validate::join(&prefix(), names[idx]);
            return Err(unreadable_error(path, "this write would overwrite"));
        }
    }
    Ok(())
}

/// Drops entries from the front (the oldest) until at most `limit` remain.
fn evict_oldest<T>(entries: &mut Vec<T>, limit: usize) -> usize {
    let excess = entries.len().saturating_sub(limit);
    entries.drain(..excess);
    excess
}

/// Adds one event to a profile's lifetime totals and recomputes its derived fields. The
/// profile is rewritten as a whole: what the file said about it (nulls, missing fields) gives
/// way to the recomputed values.
fn roll_up(profile: &mut AgentProfile, event: &AgentEvent) -> Result<(), ValidationError> {
    // Every new count is computed (and checked) before any is stored, so a failure leaves
    // the profile as it was and no copy of it is needed.
    let name = profile.agent_name.as_str();
    let field = |field: &'static str| move || format!("{}.{field}", agent_path(name));
    let success = event.status.is_success();
    let total_invocations =
        checked_count(field("total_invocations"), profile.total_invocations, 1)?;
    let successful_invocations = if success {
        checked_count(field("successful_invocations"), profile.successful_invocations, 1)?
    } else {
        profile.successful_invocations
    };
    let failed_invocations = if success {
        profile.failed_invocations
    } else {
        checked_count(field("failed_invocations"), profile.failed_invocations, 1)?
    };
    let current_streak = if success {
        checked_count(field("current_streak"), profile.current_streak, 1)?
    } else {
        0
    };
    // 10 per success plus a bonus of the streak length, so a first success gives 11.
    let xp = if success {
        checked_count(field("xp"), profile.xp, current_streak.saturating_add(10))?
    } else {
        profile.xp
    };
    let total_tokens =
        checked_count(field("total_tokens"), profile.total_tokens, event.total_tokens)?;

    profile.total_invocations = total_invocations;
    profile.successful_invocations = successful_invocations;
    profile.failed_invocations = failed_invocations;
    profile.current_streak = current_streak;
    profile.best_streak = profile.best_streak.max(current_streak);
    profile.xp = xp;
    profile.total_tokens = total_tokens;
    profile.total_cost_usd += event.estimated_cost_usd;
    profile.total_duration_seconds += event.duration_seconds;

    let total = profile.total_invocations as f64;
    let successes = profile.successful_invocations as f64;
    profile.success_rate = successes / total;
    profile.avg_duration_seconds = profile.total_duration_seconds / total;
    profile.avg_tokens_per_call = profile.total_tokens as f64 / total;
    profile.cost_per_success_usd =
        if successes > 0.0 { profile.total_cost_usd / successes } else { 0.0 };
    profile.level = i64::from(Level::for_xp(profile.xp.max(0) as u64).number());

    let ended_at = event.ended_at;
    if profile.last_active.is_none_or(|last| last.instant() <= ended_at.instant()) {
        profile.last_active = Some(ended_at);
    }
    profile.recent_events.push(event.event_id.clone());
    evict_oldest(&mut profile.recent_events, RECENT_EVENTS_LIMIT);

    award_achievements(profile);
    recompute_badges(profile);
    profile.wire.clear();
    Ok(())
}

fn award_achievements(profile: &mut AgentProfile) {
    let earned = [
        profile.successful_invocations >= 1,
        profile.current_streak >= 3,
        profile.current_streak >= 10,
        profile.successful_invocations >= 100,
        profile.total_tokens >= 1_000_000,
    ];
    for (id, is_earned) in ACHIEVEMENTS.into_iter().zip(earned) {
        if is_earned && !profile.achievements.iter().any(|have| have == id) {
            profile.achievements.push(id.to_owned());
        }
    }
}

fn recompute_badges(profile: &mut AgentProfile) {
    let (total, successes) = (profile.total_invocations, profile.successful_invocations);
    let strengths = [
        profile.avg_duration_seconds <= 15.0,
        total >= 10 && profile.success_rate >= 0.95,
        successes >= 5 && profile.cost_per_success_usd <= 0.01,
    ];
    let weaknesses = [
        total >= 3 && profile.success_rate < 0.7,
        profile.avg_duration_seconds > 300.0,
        successes >= 3 && profile.cost_per_success_usd > 1.0,
    ];
    replace_known(&mut profile.strengths, &STRENGTHS, &strengths);
    replace_known(&mut profile.weaknesses, &WEAKNESSES, &weaknesses);
}

/// Sets the badges this version computes and keeps those it does not know.
fn replace_known(badges: &mut Vec<String>, known: &[&str], holds: &[bool]) {
    badges.retain(|badge| !known.contains(&badge.as_str()));
    for (id, _) in known.iter().zip(holds).filter(|(_, holds)| **holds) {
        badges.push((*id).to_owned());
    }
}

#[cfg(test)]
mod tests;
