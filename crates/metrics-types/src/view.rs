//! The read views: what `agent-metrics status|agents|agent|events|sessions --json` print and
//! what the server's `GET /api/v1/...` routes answer, defined once here so both always agree.
//!
//! Every view carries [`SCHEMA_VERSION`] and the name of the view; field names are the file
//! format's (`agent_name`, `total_invocations`, `estimated_cost_usd`, ...), events and
//! sessions appear exactly as stored. A field is only ever added within a schema version;
//! renaming or removing one raises it. The schemas are in `docs/format.md`, "JSON views".

use serde::Serialize;

use crate::{
    AgentEvent, AgentProfile, DashboardState, EventStatus, Level, SessionSummary, Timestamp,
};

/// The version of the view shapes below.
pub const SCHEMA_VERSION: u32 = 1;

/// Which events to show: every filter given must match; newest first (by end time), at most
/// `limit`.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct EventQuery {
    /// Only this agent's events.
    pub agent: Option<String>,
    /// Only events that ended this way.
    pub status: Option<EventStatus>,
    /// Only this session's events.
    pub session: Option<String>,
    /// Only this ticket's events.
    pub ticket: Option<String>,
    /// Only events that ended at or after this instant.
    pub since: Option<Timestamp>,
    /// Only events that ended before this instant.
    pub until: Option<Timestamp>,
    /// At most this many (`None`: all).
    pub limit: Option<usize>,
}

impl EventQuery {
    /// The matching events of `state`, newest first (ties: the later recorded first).
    pub fn select<'a>(&self, state: &'a DashboardState) -> Vec<&'a AgentEvent> {
        newest_first(state.events())
            .into_iter()
            .filter(|e| self.agent.as_deref().is_none_or(|agent| e.agent_name() == agent))
            .filter(|e| self.status.as_ref().is_none_or(|status| e.status() == status))
            .filter(|e| self.session.as_deref().is_none_or(|session| e.session_id() == session))
            .filter(|e| self.ticket.as_deref().is_none_or(|ticket| e.ticket_key() == ticket))
            .filter(|e| self.since.is_none_or(|since| e.ended_at().instant() >= since.instant()))
            .filter(|e| self.until.is_none_or(|until| e.ended_at().instant() < until.instant()))
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}

/// Events by end time, newest first (ties: the later recorded first).
pub fn newest_first(events: &[AgentEvent]) -> Vec<&AgentEvent> {
    let mut sorted: Vec<&AgentEvent> = events.iter().rev().collect();
    sorted.sort_by_key(|event| std::cmp::Reverse(event.ended_at().instant()));
    sorted
}

/// The project's totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Totals {
    /// Sessions ever recorded.
    pub total_sessions: u64,
    /// Tokens ever recorded.
    pub total_tokens: u64,
    /// Cost ever recorded, in US dollars.
    pub total_cost_usd: f64,
    /// Agent time ever recorded, in seconds.
    pub total_duration_seconds: f64,
    /// Invocations ever recorded, over all agents (a wide integer: a sum over many agents
    /// never overflows).
    pub total_invocations: u128,
    /// Events in the file now (older ones are evicted).
    pub events_stored: usize,
    /// Sessions in the file now.
    pub sessions_stored: usize,
    /// When the file was last written (as written).
    pub updated_at: Option<String>,
}

impl Totals {
    /// The totals of `state`.
    pub fn of(state: &DashboardState) -> Totals {
        Totals {
            total_sessions: state.total_sessions(),
            total_tokens: state.total_tokens(),
            total_cost_usd: state.total_cost_usd(),
            total_duration_seconds: state.total_duration_seconds(),
            total_invocations: state
                .agents()
                .values()
                .map(|p| u128::from(p.total_invocations()))
                .sum(),
            events_stored: state.events().len(),
            sessions_stored: state.sessions().len(),
            updated_at: state.updated_at().map(|at| at.to_string()),
        }
    }
}

/// One agent's summary: the profile's totals and rates under the file's names, with the
/// level's number and title.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentSummary {
    /// The agent's name.
    pub agent_name: String,
    /// Level number, 1 to 8.
    pub level: u8,
    /// The level's title (`Intern` ... `Fellow`).
    pub level_title: &'static str,
    /// Experience points.
    pub xp: u64,
    /// Invocations.
    pub total_invocations: u64,
    /// Successful invocations.
    pub successful_invocations: u64,
    /// Failed invocations (any status but success).
    pub failed_invocations: u64,
    /// Successes over invocations, 0 to 1.
    pub success_rate: f64,
    /// Consecutive successes up to the latest invocation.
    pub current_streak: u64,
    /// The longest streak.
    pub best_streak: u64,
    /// Tokens used.
    pub total_tokens: u64,
    /// Cost in US dollars.
    pub total_cost_usd: f64,
    /// Time spent, in seconds.
    pub total_duration_seconds: f64,
    /// Mean time per invocation.
    pub avg_duration_seconds: f64,
    /// When its latest invocation ended.
    pub last_active: Option<String>,
}

impl AgentSummary {
    /// The summary of one profile.
    pub fn of(profile: &AgentProfile) -> AgentSummary {
        let level = level_of(profile);
        AgentSummary {
            agent_name: profile.agent_name().to_owned(),
            level: level.number(),
            level_title: level.title(),
            xp: profile.xp(),
            total_invocations: profile.total_invocations(),
            successful_invocations: profile.successful_invocations(),
            failed_invocations: profile.failed_invocations(),
            success_rate: profile.success_rate(),
            current_streak: profile.current_streak(),
            best_streak: profile.best_streak(),
            total_tokens: profile.total_tokens(),
            total_cost_usd: profile.total_cost_usd(),
            total_duration_seconds: profile.total_duration_seconds(),
            avg_duration_seconds: profile.avg_duration_seconds(),
            last_active: profile.last_active().map(|at| at.to_string()),
        }
    }
}

/// The level a profile is at: the stored number when it is one we know, else from its XP.
pub fn level_of(profile: &AgentProfile) -> Level {
    Level::from_number(profile.level()).unwrap_or_else(|| Level::for_xp(profile.xp()))
}

/// `status`: totals, every agent, the latest events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StatusView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"status"`.
    pub view: &'static str,
    /// The project's name.
    pub project_name: &'a str,
    /// The project's totals.
    pub totals: Totals,
    /// Every agent, by name.
    pub agents: Vec<AgentSummary>,
    /// The latest events, newest first, as stored.
    pub latest_events: Vec<&'a AgentEvent>,
}

impl<'a> StatusView<'a> {
    /// The status of `state` with its `latest` newest events.
    pub fn of(state: &'a DashboardState, latest: usize) -> StatusView<'a> {
        StatusView {
            schema_version: SCHEMA_VERSION,
            view: "status",
            project_name: state.project_name(),
            totals: Totals::of(state),
            agents: state.agents().values().map(AgentSummary::of).collect(),
            latest_events: newest_first(state.events()).into_iter().take(latest).collect(),
        }
    }
}

/// `agents`: every agent's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentsView {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"agents"`.
    pub view: &'static str,
    /// Every agent, by name.
    pub agents: Vec<AgentSummary>,
}

impl AgentsView {
    /// Every agent of `state`.
    pub fn of(state: &DashboardState) -> AgentsView {
        AgentsView {
            schema_version: SCHEMA_VERSION,
            view: "agents",
            agents: state.agents().values().map(AgentSummary::of).collect(),
        }
    }
}

/// `agent NAME`: one agent's summary, badges and recent events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AgentView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"agent"`.
    pub view: &'static str,
    /// The agent's summary.
    pub agent: AgentSummary,
    /// Badges earned.
    pub achievements: &'a [String],
    /// Strengths, as stored.
    pub strengths: &'a [String],
    /// Weaknesses, as stored.
    pub weaknesses: &'a [String],
    /// The ids of its latest events (the profile's `recent_events`).
    pub recent_events: &'a [String],
    /// Its latest stored events, newest first.
    pub latest_events: Vec<&'a AgentEvent>,
}

impl<'a> AgentView<'a> {
    /// The view of agent `name`, or `None` when `state` has no such agent.
    pub fn of(state: &'a DashboardState, name: &str, latest: usize) -> Option<AgentView<'a>> {
        let profile = state.agents().get(name)?;
        let query = EventQuery {
            agent: Some(name.to_owned()),
            limit: Some(latest),
            ..EventQuery::default()
        };
        Some(AgentView {
            schema_version: SCHEMA_VERSION,
            view: "agent",
            agent: AgentSummary::of(profile),
            achievements: profile.achievements(),
            strengths: profile.strengths(),
            weaknesses: profile.weaknesses(),
            recent_events: profile.recent_events(),
            latest_events: query.select(state),
        })
    }
}

/// `events`: the events a query selects, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct EventsView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"events"`.
    pub view: &'static str,
    /// The selected events, newest first.
    pub events: Vec<&'a AgentEvent>,
}

impl<'a> EventsView<'a> {
    /// The events of `state` that `query` selects.
    pub fn of(state: &'a DashboardState, query: &EventQuery) -> EventsView<'a> {
        EventsView { schema_version: SCHEMA_VERSION, view: "events", events: query.select(state) }
    }
}

/// `sessions`: the latest sessions, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SessionsView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"sessions"`.
    pub view: &'static str,
    /// The latest sessions, newest first.
    pub sessions: Vec<&'a SessionSummary>,
}

impl<'a> SessionsView<'a> {
    /// The `limit` latest sessions of `state`, optionally only those that ran `agent`.
    pub fn of(
        state: &'a DashboardState,
        agent: Option<&str>,
        limit: Option<usize>,
    ) -> SessionsView<'a> {
        let sessions = state
            .sessions()
            .iter()
            .rev()
            .filter(|s| agent.is_none_or(|agent| s.agents_invoked().iter().any(|a| a == agent)))
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        SessionsView { schema_version: SCHEMA_VERSION, view: "sessions", sessions }
    }
}

/// What a report adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Estimated cost in US dollars.
    Cost,
    /// Tokens.
    Tokens,
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// The agent's name.
    Agent,
    /// The model used (`(none)` when the event names none).
    Model,
    /// The ticket (`(none)` when the event has none).
    Ticket,
    /// The UTC day the event ended (`2026-02-14`).
    Day,
}

/// One group of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ReportRow {
    /// The agent, model, ticket or day.
    pub key: String,
    /// Stored events in the group.
    pub events: u64,
    /// Their tokens (a wide integer: a sum of many stored counts never overflows).
    pub total_tokens: u128,
    /// Their estimated cost in US dollars.
    pub total_cost_usd: f64,
}

/// `report cost|tokens --by ...`: the stored events (those the file still holds; older ones
/// are evicted) that ended in the window, added up per group. Rows are by the measure, largest
/// first (by day: oldest day first).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ReportView {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"report"`.
    pub view: &'static str,
    /// What is added up.
    pub measure: Measure,
    /// What rows are.
    pub by: GroupBy,
    /// The window's start (inclusive), if any.
    pub since: Option<String>,
    /// The window's end (exclusive), if any.
    pub until: Option<String>,
    /// One row per group.
    pub rows: Vec<ReportRow>,
    /// All rows added up.
    pub total: ReportRow,
}

impl ReportView {
    /// The report of `state`'s stored events that `query` selects (its `limit` is ignored).
    pub fn of(
        state: &DashboardState,
        measure: Measure,
        by: GroupBy,
        query: &EventQuery,
    ) -> ReportView {
        let mut all = query.clone();
        all.limit = None;
        let mut groups: std::collections::BTreeMap<String, ReportRow> =
            std::collections::BTreeMap::new();
        let mut total =
            ReportRow { key: "total".to_owned(), events: 0, total_tokens: 0, total_cost_usd: 0.0 };
        for event in all.select(state) {
            let key = match by {
                GroupBy::Agent => event.agent_name().to_owned(),
                GroupBy::Model => or_none(event.model_used()),
                GroupBy::Ticket => or_none(event.ticket_key()),
                GroupBy::Day => event.ended_at().instant().strftime("%Y-%m-%d").to_string(),
            };
            let row = groups.entry(key.clone()).or_insert_with(|| ReportRow {
                key,
                events: 0,
                total_tokens: 0,
                total_cost_usd: 0.0,
            });
            for row in [row, &mut total] {
                row.events += 1;
                row.total_tokens += u128::from(event.total_tokens());
                row.total_cost_usd += event.estimated_cost_usd();
            }
        }
        let mut rows: Vec<ReportRow> = groups.into_values().collect();
        if by != GroupBy::Day {
            match measure {
                Measure::Cost => rows.sort_by(|a, b| b.total_cost_usd.total_cmp(&a.total_cost_usd)),
                Measure::Tokens => rows.sort_by_key(|row| std::cmp::Reverse(row.total_tokens)),
            }
        }
        ReportView {
            schema_version: SCHEMA_VERSION,
            view: "report",
            measure,
            by,
            since: query.since.map(|at| at.to_string()),
            until: query.until.map(|at| at.to_string()),
            rows,
            total,
        }
    }
}

fn or_none(text: &str) -> String {
    if text.is_empty() { "(none)".to_owned() } else { text.to_owned() }
}

/// Totals of a set of events: a ticket's or a session's.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct StoryTotals {
    /// Events.
    pub events: u64,
    /// Events by status (`success`, `error`, ...).
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// Their tokens (a wide integer: a sum of many stored counts never overflows).
    pub total_tokens: u128,
    /// Their estimated cost in US dollars.
    pub total_cost_usd: f64,
    /// Their time, in seconds.
    pub total_duration_seconds: f64,
    /// The first start.
    pub first_started_at: Option<String>,
    /// The last end.
    pub last_ended_at: Option<String>,
}

impl StoryTotals {
    fn of(events: &[&AgentEvent]) -> StoryTotals {
        let mut by_status = std::collections::BTreeMap::new();
        for event in events {
            *by_status.entry(event.status().to_string()).or_insert(0) += 1;
        }
        StoryTotals {
            events: events.len() as u64,
            by_status,
            total_tokens: events.iter().map(|e| u128::from(e.total_tokens())).sum(),
            total_cost_usd: events.iter().fold(0.0, |sum, e| sum + e.estimated_cost_usd()),
            total_duration_seconds: events.iter().fold(0.0, |sum, e| sum + e.duration_seconds()),
            first_started_at: events
                .iter()
                .map(|e| e.started_at())
                .min_by_key(Timestamp::instant)
                .map(|at| at.to_string()),
            last_ended_at: events
                .iter()
                .map(|e| e.ended_at())
                .max_by_key(Timestamp::instant)
                .map(|at| at.to_string()),
        }
    }
}

/// In first-use order, without repeats.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen: Vec<&str> = Vec::new();
    for value in values.filter(|value| !value.is_empty()) {
        if !seen.contains(&value) {
            seen.push(value);
        }
    }
    seen
}

/// Events oldest first (by end time; ties in recorded order).
fn oldest_first(mut events: Vec<&AgentEvent>) -> Vec<&AgentEvent> {
    events.reverse();
    events
}

/// `ticket KEY`: one ticket's story: its stored events oldest first, the agents and sessions
/// that worked on it, and their totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TicketView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"ticket"`.
    pub view: &'static str,
    /// The ticket.
    pub ticket_key: &'a str,
    /// Agents in first-use order.
    pub agents: Vec<&'a str>,
    /// Sessions in first-use order.
    pub sessions: Vec<&'a str>,
    /// Totals of its events.
    pub totals: StoryTotals,
    /// Its stored events, oldest first.
    pub events: Vec<&'a AgentEvent>,
}

impl<'a> TicketView<'a> {
    /// The story of `ticket`, or `None` when no stored event names it.
    pub fn of(state: &'a DashboardState, ticket: &'a str) -> Option<TicketView<'a>> {
        let query = EventQuery { ticket: Some(ticket.to_owned()), ..EventQuery::default() };
        let events = oldest_first(query.select(state));
        if events.is_empty() {
            return None;
        }
        Some(TicketView {
            schema_version: SCHEMA_VERSION,
            view: "ticket",
            ticket_key: ticket,
            agents: distinct(events.iter().map(|e| e.agent_name())),
            sessions: distinct(events.iter().map(|e| e.session_id())),
            totals: StoryTotals::of(&events),
            events,
        })
    }
}

/// `session ID`: one session's summary (once recorded) and its stored events, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SessionView<'a> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `"session"`.
    pub view: &'static str,
    /// The session.
    pub session_id: &'a str,
    /// Its summary, as stored, when it has been recorded.
    pub summary: Option<&'a SessionSummary>,
    /// Agents of its stored events, in first-use order.
    pub agents: Vec<&'a str>,
    /// Tickets of its stored events, in first-use order.
    pub tickets: Vec<&'a str>,
    /// Totals of its stored events.
    pub totals: StoryTotals,
    /// Its stored events, oldest first.
    pub events: Vec<&'a AgentEvent>,
}

impl<'a> SessionView<'a> {
    /// The session `id`, or `None` when neither a summary nor a stored event names it.
    pub fn of(state: &'a DashboardState, id: &'a str) -> Option<SessionView<'a>> {
        let query = EventQuery { session: Some(id.to_owned()), ..EventQuery::default() };
        let events = oldest_first(query.select(state));
        let summary = state.sessions().iter().find(|s| s.session_id() == id);
        if events.is_empty() && summary.is_none() {
            return None;
        }
        Some(SessionView {
            schema_version: SCHEMA_VERSION,
            view: "session",
            session_id: id,
            summary,
            agents: distinct(events.iter().map(|e| e.agent_name())),
            tickets: distinct(events.iter().map(|e| e.ticket_key())),
            totals: StoryTotals::of(&events),
            events,
        })
    }
}

#[cfg(test)]
mod tests;
