//! `agent-metrics record event|session`: turn arguments (or JSON on standard input) into
//! validated values and record them in one durable write.

use std::io::{BufRead, Read};

use metrics_types::{AgentEvent, EventInput, RecordOutcome, SessionInput, Timestamp};

use crate::cli::EventArgs;
use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn event(context: &mut Context, args: &EventArgs) -> Result<String, CliError> {
    match args.json.as_deref() {
        Some("-") if !args.event.agent_name.is_empty() || !args.event.status.is_empty() => {
            return Err(CliError::Usage {
                message: "--json - reads the events from standard input; it cannot be combined with --agent or --status".to_owned(),
            });
        }
        Some("-") => return events_from_stdin(context),
        Some("") | None => {}
        Some(other) => {
            return Err(CliError::Usage {
                message: format!("--json takes `-` (standard input) or no value, not {other:?}"),
            });
        }
    }
    let event = event_from_args(args)?;
    let id = event.event_id().to_owned();
    let store = context.open_store()?;
    let outcome = store.record_event(event)?;
    context.note_recovery(&store);
    let recorded = matches!(outcome, RecordOutcome::Recorded { .. });
    if args.json.is_some() {
        return Ok(super::json(&RecordedView::of(&[id], &[recorded])));
    }
    if !recorded {
        context
            .notes
            .push(format!("agent-metrics: event {id} was already recorded; nothing changed"));
    }
    Ok(format!("{id}\n"))
}

/// What `record event --json` prints: each event's id and whether this write stored it.
#[derive(serde::Serialize)]
struct RecordedView<'a> {
    schema_version: u32,
    view: &'static str,
    events: Vec<RecordedEvent<'a>>,
}

#[derive(serde::Serialize)]
struct RecordedEvent<'a> {
    event_id: &'a str,
    recorded: bool,
}

impl<'a> RecordedView<'a> {
    fn of(ids: &'a [String], recorded: &[bool]) -> RecordedView<'a> {
        let events = ids
            .iter()
            .zip(recorded)
            .map(|(id, recorded)| RecordedEvent { event_id: id, recorded: *recorded })
            .collect();
        RecordedView {
            schema_version: metrics_types::view::SCHEMA_VERSION,
            view: "recorded",
            events,
        }
    }
}

fn event_from_args(args: &EventArgs) -> Result<AgentEvent, CliError> {
    if args.event.agent_name.is_empty() || args.event.status.is_empty() {
        return Err(CliError::Usage {
            message: "--agent and --status are required without --json".to_owned(),
        });
    }
    // A bad value given as a flag is a usage error (exit 2), as clap's own refusals are;
    // JSON input that fails the same rules is invalid data (exit 3).
    args.event.clone().into_event(crate::clock::now(), new_event_id).map_err(|err| {
        CliError::Usage { message: format!("invalid value: {err}; nothing was recorded") }
    })
}

fn events_from_stdin(context: &mut Context) -> Result<String, CliError> {
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(CliError::Stdin)?;
    let text = String::from_utf8(bytes).map_err(|err| CliError::InvalidInput {
        message: format!(
            "standard input is not UTF-8 (at byte {})",
            err.utf8_error().valid_up_to()
        ),
    })?;
    let events = parse_event_inputs(&text)?;
    let ids: Vec<String> = events.iter().map(|event| event.event_id().to_owned()).collect();
    let store = context.open_store()?;
    let outcome = store.record_events(events)?;
    context.note_recovery(&store);
    if context.verbose {
        context.notes.push(format!(
            "agent-metrics: recorded {} of {} event(s) in one write ({} already recorded, {} old event(s) evicted)",
            outcome.recorded,
            ids.len(),
            outcome.duplicates,
            outcome.evicted
        ));
    }
    // The first occurrence of an id not already stored is the one recorded.
    let mut duplicates = outcome.duplicate_ids;
    let recorded: Vec<bool> = ids
        .iter()
        .rev()
        .map(|id| match duplicates.iter().position(|dup| dup == id) {
            Some(at) => {
                duplicates.swap_remove(at);
                false
            }
            None => true,
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Ok(super::json(&RecordedView::of(&ids, &recorded)))
}

/// `record stream`: records each line of standard input as it arrives and acknowledges it.
pub(crate) fn stream(context: &mut Context, stats: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    let mut invalid_lines = 0usize;
    for (idx, line) in std::io::stdin().lock().split(b'\n').enumerate() {
        let line = line.map_err(CliError::Stdin)?;
        // A line that is not UTF-8 is refused alone, like a line that is not JSON.
        let line = match String::from_utf8(line) {
            Ok(line) => line,
            Err(err) => {
                invalid_lines += 1;
                let at = err.utf8_error().valid_up_to();
                acknowledge(&format!("invalid line {}: not UTF-8 (at byte {at})", idx + 1))?;
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let events = match parse_stream_line(&line) {
            Ok(events) => events,
            Err(message) => {
                invalid_lines += 1;
                acknowledge(&format!("invalid line {}: {message}", idx + 1))?;
                continue;
            }
        };
        let ids: Vec<String> = events.iter().map(|event| event.event_id().to_owned()).collect();
        let outcome = store.record_events(events)?;
        // A batch is written whole or not at all: every id is acknowledged the same way.
        let word = if outcome.recorded > 0 { "ok" } else { "duplicate" };
        for id in ids {
            acknowledge(&format!("{word} {id}"))?;
        }
    }
    context.note_recovery(&store);
    if stats {
        let stats = store.stats();
        acknowledge(&format!(
            "stats {}",
            serde_json::json!({
                "writes": stats.writes,
                "bytes_written": stats.bytes_written,
                "lock_acquisitions": stats.lock_acquisitions,
                "lock_wait_total_ns": stats.lock_wait_total.as_nanos() as u64,
                "lock_wait_max_ns": stats.lock_wait_max.as_nanos() as u64,
                "lock_timeouts": stats.lock_timeouts,
                "recoveries": stats.recoveries,
                "cache_hits": stats.cache_hits,
            })
        ))?;
    }
    if invalid_lines > 0 {
        return Err(CliError::SkippedLines { count: invalid_lines });
    }
    Ok(String::new())
}

fn acknowledge(text: &str) -> Result<(), CliError> {
    crate::output::line(text).map_err(CliError::Stdout)
}

/// One stream line: an event object, or an array of them.
fn parse_stream_line(line: &str) -> Result<Vec<AgentEvent>, String> {
    EventInput::parse_line(line)?
        .into_iter()
        .map(|input| event_from_input(input).map_err(|err| err.to_string()))
        .collect()
}

/// Parses one JSON object, an array, or JSON lines; every event must be valid or nothing is
/// recorded.
fn parse_event_inputs(text: &str) -> Result<Vec<AgentEvent>, CliError> {
    let invalid = |message: String| CliError::InvalidInput { message };
    let inputs = EventInput::parse_located(text).map_err(|err| invalid(err.to_string()))?;
    let many = inputs.len() > 1;
    inputs
        .into_iter()
        .map(|(place, input)| {
            event_from_input(input).map_err(|err| {
                invalid(if many { format!("{place}: {err}") } else { err.to_string() })
            })
        })
        .collect()
}

fn event_from_input(input: EventInput) -> Result<AgentEvent, metrics_types::ValidationError> {
    input.into_event(crate::clock::now(), new_event_id)
}

fn parse_time(text: &str) -> Result<Timestamp, CliError> {
    text.parse()
        .map_err(|err: metrics_types::TimestampError| CliError::Usage { message: err.to_string() })
}

fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn session(context: &mut Context, args: &SessionInput) -> Result<String, CliError> {
    if let Some(cost) = args.total_cost_usd
        && !(cost.is_finite() && cost >= 0.0)
    {
        return Err(CliError::Usage {
            message: format!("--cost must be a non-negative number of US dollars, not {cost}"),
        });
    }
    // Check what needs no state first, so a usage error is a usage error.
    for time in [&args.started_at, &args.ended_at].into_iter().flatten() {
        parse_time(time)?;
    }
    let store = context.open_store()?;
    // Everything derived from the state (the session's number, its events' tokens, cost,
    // agents and tickets) is computed inside the locked update, from the state it is
    // written into (issue 12): two concurrent calls never share a number.
    let outcome = store
        .record_session_with(|state| args.clone().into_session(state, crate::clock::now()))
        .map_err(|err| match err {
            metrics_store::StoreError::Rejected { source, .. } => {
                CliError::InvalidInput { message: source.to_string() }
            }
            other => CliError::Store(other),
        })?;
    context.note_recovery(&store);
    let id = &args.session_id;
    Ok(match outcome {
        RecordOutcome::Recorded { .. } => format!("recorded session {id}\n"),
        RecordOutcome::Duplicate => format!("session {id} was already recorded; nothing changed\n"),
    })
}
