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
    /// Invocations ever recorded, over all agents.
    pub total_invocations: u64,
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
                .fold(0u64, |sum, p| sum.saturating_add(p.total_invocations())),
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

#[cfg(test)]
mod tests;
