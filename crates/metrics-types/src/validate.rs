//! The rules a dashboard state must follow, checked all at once with a path per violation.
//!
//! Paths are built only when a rule is broken, so validating a sound state allocates almost
//! nothing: loading must stay cheap next to parsing (see `docs/benchmarks.md`).

use std::collections::HashMap;

use crate::{
    AgentEvent, AgentProfile, DashboardState, Limits, SessionSummary, ValidationError, Violation,
};

/// Builds the path of the value being checked, lazily.
pub(crate) type Prefix<'a> = &'a dyn Fn() -> String;

/// Collects violations.
#[derive(Default)]
pub(crate) struct Report {
    violations: Vec<Violation>,
}

impl Report {
    fn push(&mut self, prefix: Prefix<'_>, field: &str, message: String) {
        let path = join(&prefix(), field);
        self.violations.push(Violation { path, message });
    }

    pub(crate) fn count(&mut self, prefix: Prefix<'_>, field: &str, value: i64) {
        if value < 0 {
            self.push(prefix, field, format!("must not be negative (found {value})"));
        }
    }

    pub(crate) fn amount(&mut self, prefix: Prefix<'_>, field: &str, value: f64) {
        if !value.is_finite() {
            self.push(prefix, field, format!("must be a finite number (found {value})"));
        } else if value < 0.0 {
            self.push(prefix, field, format!("must not be negative (found {value})"));
        }
    }

    pub(crate) fn not_an_object(&mut self, prefix: Prefix<'_>, found: &serde_json::Value) {
        let message =
            format!("is {}, not an object (kept as found)", crate::state::json_kind(found));
        let path = prefix();
        self.violations.push(Violation { path, message });
    }

    pub(crate) fn unreadable(
        &mut self,
        prefix: Prefix<'_>,
        field: &str,
        found: &serde_json::Value,
    ) {
        let mut shown = found.to_string();
        if shown.len() > 60 {
            let cut = (0..=57).rev().find(|idx| shown.is_char_boundary(*idx)).unwrap_or(0);
            shown.truncate(cut);
            shown.push_str("...");
        }
        self.push(prefix, field, format!("cannot be read (found {shown}; kept as found)"));
    }

    pub(crate) fn missing(&mut self, prefix: Prefix<'_>, field: &str, message: &str) {
        self.push(prefix, field, message.to_owned());
    }

    fn non_empty(&mut self, prefix: Prefix<'_>, field: &str, value: &str) {
        if value.is_empty() {
            self.push(prefix, field, "must not be empty".to_owned());
        }
    }
}

pub(crate) fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_owned() } else { format!("{prefix}.{field}") }
}

/// Runs `check` on a fresh report and turns any violations into an error.
pub(crate) fn standalone(check: impl FnOnce(&mut Report)) -> Result<(), ValidationError> {
    let mut report = Report::default();
    check(&mut report);
    if report.violations.is_empty() {
        Ok(())
    } else {
        Err(ValidationError::Invalid { violations: report.violations })
    }
}

/// The path of an agent's profile: `agents.coding`, or `agents["odd name"]` when the name is
/// not a plain identifier.
pub(crate) fn agent_path(name: &str) -> String {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        format!("agents.{name}")
    } else {
        format!("agents[{}]", serde_json::Value::from(name))
    }
}

/// The rules of the root fields, the totals and the profiles: everything but the events and
/// sessions, which a write never changes once stored.
pub(crate) fn summary(report: &mut Report, state: &DashboardState) {
    let root: Prefix<'_> = &String::new;
    state.wire_findings(report, root);
    if state.version == 0 {
        report.push(root, "version", "must be at least 1".to_owned());
    }
    report.count(root, "total_sessions", state.total_sessions);
    report.count(root, "total_tokens", state.total_tokens);
    report.amount(root, "total_cost_usd", state.total_cost_usd);
    report.amount(root, "total_duration_seconds", state.total_duration_seconds);
    if state.total_sessions >= 0 && (state.total_sessions as u64) < state.sessions.len() as u64 {
        report.push(
            root,
            "total_sessions",
            format!("is {} but {} sessions are stored", state.total_sessions, state.sessions.len()),
        );
    }
    for (name, profile) in &state.agents {
        profile_rules(report, name, profile);
    }
}

pub(crate) fn state(report: &mut Report, state: &DashboardState, limits: &Limits) {
    let root: Prefix<'_> = &String::new;
    summary(report, state);

    if state.events.len() > limits.max_events {
        let message = format!(
            "holds {} events, more than the limit of {}",
            state.events.len(),
            limits.max_events
        );
        report.push(root, "events", message);
    }
    let mut first_index_of_id: HashMap<&str, usize> = HashMap::with_capacity(state.events.len());
    for (idx, event) in state.events.iter().enumerate() {
        let prefix = || format!("events[{idx}]");
        self::event(report, event, &prefix);
        if let Some(first) = first_index_of_id.insert(&event.event_id, idx) {
            report.push(&prefix, "event_id", format!("duplicates events[{first}].event_id"));
        }
    }

    if state.sessions.len() > limits.max_sessions {
        let message = format!(
            "holds {} sessions, more than the limit of {}",
            state.sessions.len(),
            limits.max_sessions
        );
        report.push(root, "sessions", message);
    }
    let mut first_index_of_session: HashMap<&str, usize> = HashMap::new();
    for (idx, session) in state.sessions.iter().enumerate() {
        let prefix = || format!("sessions[{idx}]");
        self::session(report, session, &prefix);
        if let Some(first) = first_index_of_session.insert(&session.session_id, idx) {
            report.push(&prefix, "session_id", format!("duplicates sessions[{first}].session_id"));
        }
    }
}

pub(crate) fn event(report: &mut Report, event: &AgentEvent, prefix: Prefix<'_>) {
    use crate::event::FieldIndex;
    event.wire_findings(report, prefix);
    if event.wire.opaque().is_some() {
        return;
    }
    report.non_empty(prefix, "event_id", &event.event_id);
    report.non_empty(prefix, "agent_name", &event.agent_name);
    event.plain_field_rules(report, prefix);
    report.count(prefix, "total_tokens", event.total_tokens);
    if let (Some(input), Some(output)) = (event.input_tokens, event.output_tokens)
        && event.is_read(FieldIndex::total_tokens)
        && input.checked_add(output) != Some(event.total_tokens)
    {
        let message = format!(
            "is {} but input_tokens + output_tokens is {input} + {output}",
            event.total_tokens
        );
        report.push(prefix, "total_tokens", message);
    }
    report.amount(prefix, "duration_seconds", event.duration_seconds);
    if event.is_read(FieldIndex::started_at)
        && event.is_read(FieldIndex::ended_at)
        && event.ended_at.instant() < event.started_at.instant()
    {
        let message = format!("{} is before started_at {}", event.ended_at, event.started_at);
        report.push(prefix, "ended_at", message);
    }
}

pub(crate) fn session(report: &mut Report, session: &SessionSummary, prefix: Prefix<'_>) {
    use crate::session::FieldIndex;
    session.wire_findings(report, prefix);
    if session.wire.opaque().is_some() {
        return;
    }
    report.non_empty(prefix, "session_id", &session.session_id);
    report.count(prefix, "session_number", session.session_number);
    report.count(prefix, "total_tokens", session.total_tokens);
    report.amount(prefix, "total_cost_usd", session.total_cost_usd);
    if session.is_read(FieldIndex::started_at)
        && session.is_read(FieldIndex::ended_at)
        && session.ended_at.instant() < session.started_at.instant()
    {
        let message = format!("{} is before started_at {}", session.ended_at, session.started_at);
        report.push(prefix, "ended_at", message);
    }
}

fn profile_rules(report: &mut Report, name: &str, profile: &AgentProfile) {
    let prefix = || agent_path(name);
    let prefix: Prefix<'_> = &prefix;
    profile.wire_findings(report, prefix);
    if profile.wire.opaque().is_some() {
        return;
    }
    if profile.agent_name != name {
        let message = format!("is {:?} but the profile is keyed {name:?}", profile.agent_name);
        report.push(prefix, "agent_name", message);
    }
    report.count(prefix, "total_invocations", profile.total_invocations);
    report.count(prefix, "successful_invocations", profile.successful_invocations);
    report.count(prefix, "failed_invocations", profile.failed_invocations);
    report.count(prefix, "total_tokens", profile.total_tokens);
    report.count(prefix, "xp", profile.xp);
    report.count(prefix, "level", profile.level);
    report.count(prefix, "current_streak", profile.current_streak);
    report.count(prefix, "best_streak", profile.best_streak);
    let (successful, failed) = (profile.successful_invocations, profile.failed_invocations);
    if successful.checked_add(failed) != Some(profile.total_invocations) {
        let message = format!(
            "is {failed} but successful ({successful}) + failed must equal total ({})",
            profile.total_invocations
        );
        report.push(prefix, "failed_invocations", message);
    }
    if profile.current_streak > profile.best_streak {
        let message =
            format!("is {} but current_streak is {}", profile.best_streak, profile.current_streak);
        report.push(prefix, "best_streak", message);
    }
    report.amount(prefix, "total_cost_usd", profile.total_cost_usd);
    report.amount(prefix, "total_duration_seconds", profile.total_duration_seconds);
    report.amount(prefix, "success_rate", profile.success_rate);
    report.amount(prefix, "avg_duration_seconds", profile.avg_duration_seconds);
    report.amount(prefix, "avg_tokens_per_call", profile.avg_tokens_per_call);
    report.amount(prefix, "cost_per_success_usd", profile.cost_per_success_usd);
}

#[cfg(test)]
mod tests;
