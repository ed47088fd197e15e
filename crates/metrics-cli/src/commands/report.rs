//! The questions an operator asks: `report cost|tokens --by agent|model|ticket|day`, one
//! ticket's story (`ticket KEY`) and one session's (`session ID`), each as a table or, with
//! `--json`, as the views of `metrics_types::view`.

use std::fmt::Write;

use metrics_types::AgentEvent;
use metrics_types::view::{
    EventQuery, GroupBy, Measure, ReportView, SessionView, StoryTotals, TicketView,
};

use crate::clock::duration;
use crate::commands::show::event_table;
use crate::commands::{Context, json};
use crate::error::CliError;
use crate::style::{Painter, cell, count, safe, usd};

pub(crate) fn report(
    context: &mut Context,
    measure: Measure,
    by: GroupBy,
    window: &EventQuery,
    as_json: bool,
) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let view = ReportView::of(&loaded.state, measure, by, window);
    if as_json {
        return Ok(json(&view));
    }
    let paint = context.painter;
    let mut out = String::new();
    if view.rows.is_empty() {
        out.push_str("no stored events in this window\n");
        return Ok(out);
    }
    let (label, share_of) = match measure {
        Measure::Cost => ("COST", view.total.total_cost_usd),
        Measure::Tokens => ("TOKENS", view.total.total_tokens as f64),
    };
    let key = match by {
        GroupBy::Agent => "AGENT",
        GroupBy::Model => "MODEL",
        GroupBy::Ticket => "TICKET",
        GroupBy::Day => "DAY (UTC)",
    };
    let _ = writeln!(
        out,
        "{}",
        paint.heading(&format!("{key:<24} {:>7} {label:>10} {:>6}", "EVENTS", "SHARE"))
    );
    for row in view.rows.iter().chain(std::iter::once(&view.total)) {
        let (amount, value) = match measure {
            Measure::Cost => (usd(row.total_cost_usd), row.total_cost_usd),
            Measure::Tokens => (tokens(row.total_tokens), row.total_tokens as f64),
        };
        let share = if share_of > 0.0 {
            format!("{:.0}%", 100.0 * value / share_of)
        } else {
            "-".to_owned()
        };
        let _ = writeln!(out, "{} {:>7} {amount:>10} {share:>6}", cell(&row.key, 24), row.events);
    }
    let _ = writeln!(
        out,
        "{}",
        paint.dim("over the events the store still holds (older ones are evicted; lifetime totals per agent are in `agents`)")
    );
    Ok(out)
}

/// A wide token count for a report line.
fn tokens(value: u128) -> String {
    u64::try_from(value).map_or_else(|_| value.to_string(), count)
}

pub(crate) fn ticket(context: &mut Context, key: &str, as_json: bool) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let Some(view) = TicketView::of(&loaded.state, key) else {
        return Err(not_found(context, format!("no stored event names ticket {key:?}")));
    };
    if as_json {
        return Ok(json(&view));
    }
    let lines = [("Agents", view.agents.join(", ")), ("Sessions", view.sessions.join(", "))];
    Ok(story_page(context.painter, ("Ticket", key), &lines, &view.totals, &view.events))
}

pub(crate) fn session(context: &mut Context, id: &str, as_json: bool) -> Result<String, CliError> {
    let (_store, loaded) = context.load_existing()?;
    let Some(view) = SessionView::of(&loaded.state, id) else {
        let what = format!("no session {id:?} (neither a summary nor a stored event)");
        return Err(not_found(context, what));
    };
    if as_json {
        return Ok(json(&view));
    }
    let summary = view.summary.map_or_else(
        || "not recorded yet (`record session`)".to_owned(),
        |summary| {
            format!(
                "#{} {}, {}; it counts {} tokens and {}",
                summary.session_number(),
                summary.session_type().as_str(),
                summary.status().as_str(),
                count(summary.total_tokens()),
                usd(summary.total_cost_usd())
            )
        },
    );
    let lines = [
        ("Summary", summary),
        ("Agents", view.agents.join(", ")),
        ("Tickets", view.tickets.join(", ")),
    ];
    Ok(story_page(context.painter, ("Session", id), &lines, &view.totals, &view.events))
}

fn not_found(context: &Context, what: String) -> CliError {
    CliError::NotFound { what, path: context.store_path.clone() }
}

/// A ticket's or a session's story as text: its heading, labelled lines, the totals and the
/// events.
fn story_page(
    paint: Painter,
    (title, key): (&str, &str),
    lines: &[(&str, String)],
    totals: &StoryTotals,
    events: &[&AgentEvent],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {}", paint.heading(title), paint.heading(&safe(key)));
    for (label, value) in lines {
        let _ = writeln!(out, "  {label:<10}{}", safe(value));
    }
    story(&mut out, totals);
    out.push('\n');
    event_table(&mut out, events, paint);
    out
}

/// The totals lines of a ticket or a session.
fn story(out: &mut String, totals: &StoryTotals) {
    let statuses: Vec<String> =
        totals.by_status.iter().map(|(status, n)| format!("{n} {}", safe(status))).collect();
    let _ = writeln!(out, "  {:<10}{} ({})", "Events", totals.events, statuses.join(", "));
    let _ = writeln!(
        out,
        "  {:<10}{} tokens · {} · {} of agent time",
        "Totals",
        tokens(totals.total_tokens),
        usd(totals.total_cost_usd),
        duration(totals.total_duration_seconds)
    );
    let span = |at: &Option<String>| {
        let at: metrics_types::Timestamp = at.as_deref()?.parse().ok()?;
        Some(at.instant().strftime("%Y-%m-%d %H:%M").to_string())
    };
    if let (Some(first), Some(last)) = (span(&totals.first_started_at), span(&totals.last_ended_at))
    {
        let _ = writeln!(out, "  {:<10}{first} to {last} (UTC)", "When");
    }
}
