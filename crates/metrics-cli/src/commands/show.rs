//! The read commands: `status`, `agents`, `agent`, `events`, `sessions`, for people (80
//! columns) and, with `--json`, for programs.

use std::fmt::Write;

use metrics_types::view::{
    AgentView, AgentsView, EventQuery, EventsView, SessionsView, StatusView, level_of, newest_first,
};
use metrics_types::{AgentEvent, DashboardState, Level, Timestamp};

use crate::clock::{ago, duration};
use crate::commands::{Context, json};
use crate::error::CliError;
use crate::style::{Painter, cell, count, fit, safe, terminal_width, usd};

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
        return Ok(json(&StatusView::of(state, limit)));
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
        "{} · {} tokens · {} · {} of agent time · {} stored",
        crate::style::plural(
            usize::try_from(state.total_sessions()).unwrap_or(usize::MAX),
            "session",
            "sessions"
        ),
        count(state.total_tokens()),
        usd(state.total_cost_usd()),
        duration(state.total_duration_seconds()),
        crate::style::plural(state.events().len(), "event", "events")
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
        return Ok(json(&AgentsView::of(&loaded.state)));
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
    if as_json && let Some(view) = AgentView::of(state, name, 10) {
        return Ok(json(&view));
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
    filter: &EventQuery,
    as_json: bool,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let view = EventsView::of(&loaded.state, filter);
    if as_json {
        return Ok(json(&view));
    }
    let selected = view.events;
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
    let view = SessionsView::of(&loaded.state, None, Some(limit));
    if as_json {
        return Ok(json(&view));
    }
    let selected = view.sessions;
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
            "{:<3} {} {:<12} {} {:>7} {:>8} {:>7}  {}",
            session.session_number(),
            cell(session.session_id(), 14),
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
    // Wider terminals give names more room.
    let name_width = 12 + terminal_width().saturating_sub(80).min(28);
    let header = format!(
        "{} {:<15} {:>6} {:>5} {:>4} {:>4} {:>6} {:>7} {:>8}",
        cell("AGENT", name_width),
        "LEVEL",
        "XP",
        "CALLS",
        "OK%",
        "STRK",
        "AVG",
        "COST",
        "LAST"
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
            "{} {:<15} {:>6} {:>5} {rate} {:>4} {:>6} {:>7} {:>8}",
            cell(name, name_width),
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

pub(crate) fn event_table(out: &mut String, events: &[&AgentEvent], paint: Painter) {
    if events.is_empty() {
        out.push_str("no events\n");
        return;
    }
    // Wider terminals give the agent and the ticket (or id) more room.
    let extra = terminal_width().saturating_sub(80).min(48);
    let (name_width, label_width) = (12 + extra / 2, 12 + extra - extra / 2);
    let header = format!(
        "{:<16} {} {:<8} {:>7} {:>8} {:>7}  {}",
        "ENDED (UTC)",
        cell("AGENT", name_width),
        "STATUS",
        "TOKENS",
        "COST",
        "TIME",
        "TICKET / ID"
    );
    let _ = writeln!(out, "{}", paint.heading(&header));
    for event in events {
        let ended = event.ended_at().instant().strftime("%Y-%m-%d %H:%M").to_string();
        let label =
            if event.ticket_key().is_empty() { event.event_id() } else { event.ticket_key() };
        let _ = writeln!(
            out,
            "{ended:<16} {} {} {:>7} {:>8} {:>7}  {}",
            cell(event.agent_name(), name_width),
            paint.status(event.status().as_str(), 8),
            count(event.total_tokens()),
            usd(event.estimated_cost_usd()),
            fit(&duration(event.duration_seconds()), 7),
            fit(label, label_width)
        );
    }
}

fn next_title(level: Level) -> &'static str {
    Level::from_number(u64::from(level.number()) + 1).map_or("", Level::title)
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".to_owned() } else { safe(&items.join(", ")).into_owned() }
}
