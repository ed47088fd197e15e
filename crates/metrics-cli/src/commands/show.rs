//! The read commands: `status`, `agents`, `agent`, `events`, `sessions`, for people (80
//! columns) and, with `--json`, for programs.

use std::fmt::Write;

use metrics_types::{
    AgentEvent, AgentProfile, DashboardState, EventStatus, Level, SessionSummary, Timestamp,
};
use serde_json::{Value, json};

use crate::clock::{ago, duration};
use crate::commands::{Context, json};
use crate::error::CliError;
use crate::style::{Painter, count, fit, safe, usd};

/// Which events `events` shows.
pub(crate) struct EventFilter<'a> {
    pub(crate) agent: Option<&'a str>,
    pub(crate) session: Option<&'a str>,
    pub(crate) status: Option<EventStatus>,
    pub(crate) limit: usize,
}

pub(crate) fn status(
    context: &mut Context,
    as_json: bool,
    limit: usize,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let state = &loaded.state;
    let now = crate::clock::now();
    let latest: Vec<&AgentEvent> = newest_first(state.events()).into_iter().take(limit).collect();
    if as_json {
        return Ok(json(&json!({
            "store": context.store_path.display().to_string(),
            "project_name": state.project_name(),
            "totals": totals_json(state),
            "agents": state.agents().values().map(agent_json).collect::<Vec<_>>(),
            "latest_events": latest.iter().map(|event| to_value(*event)).collect::<Vec<_>>(),
        })));
    }
    let paint = context.painter;
    let mut out = String::new();
    let project = if state.project_name().is_empty() {
        "(unnamed project)".into()
    } else {
        safe(state.project_name())
    };
    let _ = writeln!(out, "{} {}", paint.heading("Agent metrics:"), paint.heading(&project));
    let _ = writeln!(
        out,
        "{} sessions · {} tokens · {} · {} of agent time · {} events stored",
        state.total_sessions(),
        count(state.total_tokens()),
        usd(state.total_cost_usd()),
        duration(state.total_duration_seconds()),
        state.events().len()
    );
    out.push('\n');
    agent_table(&mut out, state, now, paint);
    out.push('\n');
    let _ = writeln!(out, "{}", paint.heading("Latest events"));
    event_table(&mut out, &latest, paint);
    Ok(out)
}

pub(crate) fn agents(context: &mut Context, as_json: bool) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    if as_json {
        let agents: Vec<Value> = loaded.state.agents().values().map(agent_json).collect();
        return Ok(json(&json!({ "agents": agents })));
    }
    let mut out = String::new();
    agent_table(&mut out, &loaded.state, crate::clock::now(), context.painter);
    Ok(out)
}

pub(crate) fn agent(context: &mut Context, name: &str, as_json: bool) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let state = &loaded.state;
    let Some(profile) = state.agents().get(name) else {
        let known = state.agents().keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(CliError::UnknownAgent {
            name: name.to_owned(),
            path: context.store_path.clone(),
            known,
        });
    };
    let recent: Vec<&AgentEvent> = newest_first(state.events())
        .into_iter()
        .filter(|e| e.agent_name() == name)
        .take(10)
        .collect();
    if as_json {
        let mut detail = agent_json(profile);
        detail["achievements"] = json!(profile.achievements());
        detail["strengths"] = json!(profile.strengths());
        detail["weaknesses"] = json!(profile.weaknesses());
        detail["recent_event_ids"] = json!(profile.recent_events());
        let events: Vec<Value> = recent.iter().map(|event| to_value(*event)).collect();
        return Ok(json(&json!({ "agent": detail, "recent_events": events })));
    }
    let paint = context.painter;
    let level = level_of(profile);
    let now = crate::clock::now();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}",
        paint.heading(&safe(name)),
        paint.dim(&format!("level {} {}", level.number(), level.title()))
    );
    let next = match level.next_threshold() {
        Some(threshold) => {
            format!(" ({} to {})", threshold.saturating_sub(profile.xp()), next_title(level))
        }
        None => String::new(),
    };
    let rows = [
        ("XP", format!("{}{next}", profile.xp())),
        (
            "Invocations",
            format!(
                "{} ({} succeeded, {} failed, {:.0}% success)",
                profile.total_invocations(),
                profile.successful_invocations(),
                profile.failed_invocations(),
                profile.success_rate() * 100.0
            ),
        ),
        ("Streak", format!("{} now, {} best", profile.current_streak(), profile.best_streak())),
        (
            "Tokens",
            format!(
                "{} ({} per call)",
                count(profile.total_tokens()),
                count(profile.avg_tokens_per_call() as u64)
            ),
        ),
        (
            "Cost",
            format!(
                "{} ({} per success)",
                usd(profile.total_cost_usd()),
                usd(profile.cost_per_success_usd())
            ),
        ),
        (
            "Time",
            format!(
                "{} ({} per call)",
                duration(profile.total_duration_seconds()),
                duration(profile.avg_duration_seconds())
            ),
        ),
        (
            "Last active",
            profile.last_active().map_or_else(|| "never".to_owned(), |at| ago(at, now)),
        ),
        ("Achievements", list_or_none(profile.achievements())),
        ("Strengths", list_or_none(profile.strengths())),
        ("Weaknesses", list_or_none(profile.weaknesses())),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<13}{value}");
    }
    out.push('\n');
    let _ = writeln!(out, "{}", paint.heading("Recent events"));
    event_table(&mut out, &recent, paint);
    Ok(out)
}

pub(crate) fn events(
    context: &mut Context,
    filter: &EventFilter<'_>,
    as_json: bool,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let selected: Vec<&AgentEvent> = newest_first(loaded.state.events())
        .into_iter()
        .filter(|e| filter.agent.is_none_or(|agent| e.agent_name() == agent))
        .filter(|e| filter.session.is_none_or(|session| e.session_id() == session))
        .filter(|e| filter.status.as_ref().is_none_or(|status| e.status() == status))
        .take(filter.limit)
        .collect();
    if as_json {
        let events: Vec<Value> = selected.iter().map(|event| to_value(*event)).collect();
        return Ok(json(&json!({ "events": events })));
    }
    let mut out = String::new();
    event_table(&mut out, &selected, context.painter);
    Ok(out)
}

pub(crate) fn sessions(
    context: &mut Context,
    limit: usize,
    as_json: bool,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let selected: Vec<&SessionSummary> = loaded.state.sessions().iter().rev().take(limit).collect();
    if as_json {
        let sessions: Vec<Value> = selected.iter().map(|session| to_value(*session)).collect();
        return Ok(json(&json!({ "sessions": sessions })));
    }
    let paint = context.painter;
    let mut out = String::new();
    if selected.is_empty() {
        out.push_str("no sessions recorded\n");
        return Ok(out);
    }
    let header = format!(
        "{:<3} {:<14} {:<12} {:<8} {:>7} {:>8} {:>7}  {}",
        "#", "SESSION", "TYPE", "STATUS", "TOKENS", "COST", "TIME", "AGENTS"
    );
    let _ = writeln!(out, "{}", paint.heading(&header));
    for session in selected {
        let seconds = (session.ended_at().instant().as_microsecond()
            - session.started_at().instant().as_microsecond()) as f64
            / 1e6;
        let _ = writeln!(
            out,
            "{:<3} {:<14} {:<12} {} {:>7} {:>8} {:>7}  {}",
            session.session_number(),
            fit(session.session_id(), 14),
            session.session_type().as_str(),
            paint.status(session.status().as_str(), 8),
            count(session.total_tokens()),
            usd(session.total_cost_usd()),
            duration(seconds),
            fit(&session.agents_invoked().join(","), 13)
        );
    }
    Ok(out)
}

fn agent_table(out: &mut String, state: &DashboardState, now: Timestamp, paint: Painter) {
    if state.agents().is_empty() {
        out.push_str("no agents recorded yet\n");
        return;
    }
    let header = format!(
        "{:<12} {:<15} {:>6} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8}",
        "AGENT", "LEVEL", "XP", "CALLS", "OK%", "STRK", "AVG", "COST", "LAST"
    );
    let _ = writeln!(out, "{}", paint.heading(&header));
    for (name, profile) in state.agents() {
        let level = level_of(profile);
        let rate = format!("{:.0}", profile.success_rate() * 100.0);
        let rate = if profile.success_rate() >= 0.9 {
            paint.good(&format!("{rate:>4}"))
        } else if profile.success_rate() < 0.7 {
            paint.bad(&format!("{rate:>4}"))
        } else {
            format!("{rate:>4}")
        };
        let last = profile.last_active().map_or_else(|| "never".to_owned(), |at| ago(at, now));
        let _ = writeln!(
            out,
            "{:<12} {:<15} {:>6} {:>5} {rate} {:>4} {:>6} {:>7} {:>8}",
            fit(name, 12),
            format!("{} {}", level.number(), level.title()),
            profile.xp(),
            profile.total_invocations(),
            profile.current_streak(),
            fit(&duration(profile.avg_duration_seconds()), 6),
            usd(profile.total_cost_usd()),
            fit(&last, 8)
        );
    }
}

fn event_table(out: &mut String, events: &[&AgentEvent], paint: Painter) {
    if events.is_empty() {
        out.push_str("no events\n");
        return;
    }
    let header = format!(
        "{:<16} {:<12} {:<8} {:>7} {:>8} {:>7}  {}",
        "ENDED (UTC)", "AGENT", "STATUS", "TOKENS", "COST", "TIME", "TICKET / ID"
    );
    let _ = writeln!(out, "{}", paint.heading(&header));
    for event in events {
        let ended = event.ended_at().instant().strftime("%Y-%m-%d %H:%M").to_string();
        let label =
            if event.ticket_key().is_empty() { event.event_id() } else { event.ticket_key() };
        let _ = writeln!(
            out,
            "{ended:<16} {:<12} {} {:>7} {:>8} {:>7}  {}",
            fit(event.agent_name(), 12),
            paint.status(event.status().as_str(), 8),
            count(event.total_tokens()),
            usd(event.estimated_cost_usd()),
            fit(&duration(event.duration_seconds()), 7),
            fit(label, 12)
        );
    }
}

/// Events by end time, newest first (ties: the later recorded first).
fn newest_first(events: &[AgentEvent]) -> Vec<&AgentEvent> {
    let mut sorted: Vec<&AgentEvent> = events.iter().rev().collect();
    sorted.sort_by_key(|event| std::cmp::Reverse(event.ended_at().instant()));
    sorted
}

fn level_of(profile: &AgentProfile) -> Level {
    Level::from_number(profile.level()).unwrap_or_else(|| Level::for_xp(profile.xp()))
}

fn next_title(level: Level) -> &'static str {
    Level::from_number(u64::from(level.number()) + 1).map_or("", Level::title)
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_owned() } else { safe(&items.join(", ")).into_owned() }
}

fn totals_json(state: &DashboardState) -> Value {
    json!({
        "sessions": state.total_sessions(),
        "tokens": state.total_tokens(),
        "cost_usd": state.total_cost_usd(),
        "duration_seconds": state.total_duration_seconds(),
        "events_stored": state.events().len(),
        "sessions_stored": state.sessions().len(),
    })
}

/// The stable summary of one agent in `--json` output.
pub(crate) fn agent_json(profile: &AgentProfile) -> Value {
    let level = level_of(profile);
    json!({
        "name": profile.agent_name(),
        "level": level.number(),
        "title": level.title(),
        "xp": profile.xp(),
        "invocations": profile.total_invocations(),
        "successful": profile.successful_invocations(),
        "failed": profile.failed_invocations(),
        "success_rate": profile.success_rate(),
        "current_streak": profile.current_streak(),
        "best_streak": profile.best_streak(),
        "total_tokens": profile.total_tokens(),
        "total_cost_usd": profile.total_cost_usd(),
        "avg_duration_seconds": profile.avg_duration_seconds(),
        "last_active": profile.last_active().map(|at| at.to_string()),
    })
}

/// A schema value as JSON, in the file format's shape.
pub(crate) fn to_value(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
