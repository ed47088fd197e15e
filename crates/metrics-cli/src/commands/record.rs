//! `agent-metrics record event|session`: turn arguments (or JSON on standard input) into
//! validated values and record them in one durable write.

use std::io::{BufRead, Read};

use metrics_types::{
    AgentEvent, DashboardState, EventStatus, NewAgentEvent, NewSessionSummary, RecordOutcome,
    SessionStatus, SessionSummary, SessionType, Timestamp,
};
use serde::Deserialize;

use crate::cli::{EventArgs, SessionArgs, SessionStatusArg, SessionTypeArg};
use crate::commands::Context;
use crate::error::CliError;

pub(crate) fn event(context: &mut Context, args: &EventArgs) -> Result<String, CliError> {
    if let Some(source) = &args.json {
        return events_from_stdin(context, source);
    }
    let event = event_from_args(args)?;
    let (id, agent, status) =
        (event.event_id().to_owned(), event.agent_name().to_owned(), event.status().clone());
    let store = context.open_store()?;
    let outcome = store.record_event(event)?;
    context.note_recovery(&store);
    Ok(match outcome {
        RecordOutcome::Recorded { .. } => format!("recorded event {id} ({agent}, {status})\n"),
        RecordOutcome::Duplicate => format!("event {id} was already recorded; nothing changed\n"),
    })
}

fn event_from_args(args: &EventArgs) -> Result<AgentEvent, CliError> {
    let (Some(agent), Some(status)) = (&args.agent, args.status) else {
        return Err(CliError::Usage {
            message: "--agent and --status are required without --json".to_owned(),
        });
    };
    let started_at = args.started_at.as_deref().map(parse_time).transpose()?;
    let ended_at = args.ended_at.as_deref().map(parse_time).transpose()?;
    let (started_at, ended_at, duration) = event_times(started_at, ended_at, args.duration)?;
    let event_id = args.event_id.clone().unwrap_or_else(new_event_id);
    let input = NewAgentEvent {
        session_id: args.session.clone().unwrap_or_default(),
        ticket_key: args.ticket.clone().unwrap_or_default(),
        ended_at: Some(ended_at),
        input_tokens: args.input_tokens,
        output_tokens: args.output_tokens,
        estimated_cost_usd: args.cost,
        duration_seconds: duration,
        artifacts: args.artifacts.clone(),
        error_message: args.error_message.clone().unwrap_or_default(),
        model_used: args.model.clone().unwrap_or_default(),
        ..NewAgentEvent::new(&event_id, agent, status.to_status(), started_at)
    };
    // A bad value given as a flag is a usage error (exit 2), as clap's own refusals are;
    // JSON input that fails the same rules is invalid data (exit 3).
    AgentEvent::new(input).map_err(|err| CliError::Usage {
        message: format!("invalid value: {err}; nothing was recorded"),
    })
}

/// One event as a harness writes it on standard input: the file format's field names, with
/// everything but the agent and the status optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventInput {
    event_id: Option<String>,
    #[serde(alias = "agent")]
    agent_name: String,
    status: String,
    #[serde(default, alias = "session")]
    session_id: String,
    #[serde(default, alias = "ticket")]
    ticket_key: String,
    started_at: Option<String>,
    ended_at: Option<String>,
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    total_tokens: Option<u64>,
    #[serde(default, alias = "cost")]
    estimated_cost_usd: f64,
    #[serde(alias = "duration")]
    duration_seconds: Option<f64>,
    #[serde(default)]
    artifacts: Vec<String>,
    #[serde(default)]
    error_message: String,
    #[serde(default, alias = "model")]
    model_used: String,
}

fn events_from_stdin(context: &mut Context, source: &str) -> Result<String, CliError> {
    if source != "-" {
        return Err(CliError::Usage {
            message: format!("--json takes `-` (standard input), not {source:?}"),
        });
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(CliError::Stdin)?;
    let events = parse_event_inputs(&text)?;
    let count = events.len();
    let ids: Vec<String> = events.iter().map(|event| event.event_id().to_owned()).collect();
    let store = context.open_store()?;
    let outcome = store.record_events(events)?;
    context.note_recovery(&store);
    if context.verbose {
        context.notes.extend(ids.iter().map(|id| format!("agent-metrics: event {id}")));
    }
    Ok(format!(
        "recorded {} of {count} event(s) in one write ({} already recorded, {} old event(s) evicted)\n",
        outcome.recorded, outcome.duplicates, outcome.evicted
    ))
}

/// `record stream`: records each line of standard input as it arrives and acknowledges it.
pub(crate) fn stream(context: &mut Context, stats: bool) -> Result<String, CliError> {
    let store = context.open_store()?;
    let mut invalid_lines = 0usize;
    for (idx, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(CliError::Stdin)?;
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
    let inputs: Vec<EventInput> = if line.trim_start().starts_with('[') {
        serde_json::from_str(line).map_err(|err| err.to_string())?
    } else {
        vec![serde_json::from_str(line).map_err(|err| err.to_string())?]
    };
    inputs.into_iter().map(event_from_input).collect()
}

/// Parses one JSON object, or one per line; every event must be valid or nothing is recorded.
fn parse_event_inputs(text: &str) -> Result<Vec<AgentEvent>, CliError> {
    let invalid = |message: String| CliError::InvalidInput { message };
    let inputs: Vec<(String, EventInput)> = match serde_json::from_str::<EventInput>(text) {
        Ok(input) => vec![("the event".to_owned(), input)],
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(idx, line)| {
                let input = serde_json::from_str::<EventInput>(line)
                    .map_err(|err| invalid(format!("line {}: {err}", idx + 1)))?;
                Ok((format!("line {}", idx + 1), input))
            })
            .collect::<Result<_, CliError>>()?,
    };
    if inputs.is_empty() {
        return Err(invalid("standard input holds no event".to_owned()));
    }
    inputs
        .into_iter()
        .map(|(place, input)| {
            event_from_input(input).map_err(|message| invalid(format!("{place}: {message}")))
        })
        .collect()
}

fn event_from_input(input: EventInput) -> Result<AgentEvent, String> {
    let status = EventStatus::parse_known(&input.status).ok_or_else(|| {
        format!("unknown status {:?} (expected success, error, timeout or blocked)", input.status)
    })?;
    let time = |text: Option<String>| {
        text.as_deref().map(parse_time).transpose().map_err(|err| err.to_string())
    };
    let (started_at, ended_at, duration) =
        event_times(time(input.started_at)?, time(input.ended_at)?, input.duration_seconds)
            .map_err(|err| err.to_string())?;
    if let Some(total) = input.total_tokens
        && Some(total) != input.input_tokens.checked_add(input.output_tokens)
    {
        return Err(format!(
            "total_tokens is {total} but input_tokens + output_tokens is {} + {}",
            input.input_tokens, input.output_tokens
        ));
    }
    let event_id = input.event_id.unwrap_or_else(new_event_id);
    AgentEvent::new(NewAgentEvent {
        session_id: input.session_id,
        ticket_key: input.ticket_key,
        ended_at: Some(ended_at),
        input_tokens: input.input_tokens,
        output_tokens: input.output_tokens,
        estimated_cost_usd: input.estimated_cost_usd,
        duration_seconds: duration,
        artifacts: input.artifacts,
        error_message: input.error_message,
        model_used: input.model_used,
        ..NewAgentEvent::new(&event_id, &input.agent_name, status, started_at)
    })
    .map_err(|err| err.to_string())
}

/// Start, end and duration from whichever of them were given: the end defaults to the start
/// plus the duration, else now; the start to the end minus the duration; the duration to the
/// time between them, else 0.
fn event_times(
    started_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    duration: Option<f64>,
) -> Result<(Timestamp, Timestamp, f64), CliError> {
    let out_of_range = || CliError::Usage { message: "the times are out of range".to_owned() };
    let (started_at, ended_at) = match (started_at, ended_at) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => {
            (start, start.plus_seconds(duration.unwrap_or(0.0)).ok_or_else(out_of_range)?)
        }
        (None, end) => {
            let end = end.unwrap_or_else(crate::clock::now);
            (end.plus_seconds(-duration.unwrap_or(0.0)).ok_or_else(out_of_range)?, end)
        }
    };
    let between =
        (ended_at.instant().as_microsecond() - started_at.instant().as_microsecond()) as f64 / 1e6;
    Ok((started_at, ended_at, duration.unwrap_or(between.max(0.0))))
}

fn parse_time(text: &str) -> Result<Timestamp, CliError> {
    text.parse()
        .map_err(|err: metrics_types::TimestampError| CliError::Usage { message: err.to_string() })
}

fn new_event_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) fn session(context: &mut Context, args: &SessionArgs) -> Result<String, CliError> {
    let store = context.open_store()?;
    // Check what needs no state first, so a usage error is a usage error.
    let started_at = args.started_at.as_deref().map(parse_time).transpose()?;
    let ended_at = args.ended_at.as_deref().map(parse_time).transpose()?;
    // Everything derived from the state (the session's number, its events' tokens, cost,
    // agents and tickets) is computed inside the locked update, from the state it is
    // written into (issue 12): two concurrent calls never share a number.
    let outcome = store
        .record_session_with(|state| session_from_args(args, state, started_at, ended_at))
        .map_err(|err| match err {
            metrics_store::StoreError::Rejected { source, .. } => {
                CliError::InvalidInput { message: source.to_string() }
            }
            other => CliError::Store(other),
        })?;
    context.note_recovery(&store);
    Ok(match outcome {
        RecordOutcome::Recorded { .. } => format!("recorded session {}\n", args.session),
        RecordOutcome::Duplicate => {
            format!("session {} was already recorded; nothing changed\n", args.session)
        }
    })
}

/// A session summary whose unset fields are derived from the session's recorded events.
fn session_from_args(
    args: &SessionArgs,
    state: &DashboardState,
    started_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
) -> Result<SessionSummary, metrics_types::ValidationError> {
    let events: Vec<&AgentEvent> =
        state.events().iter().filter(|e| e.session_id() == args.session).collect();
    let mut agents = args.agents.clone();
    let mut tickets = args.tickets.clone();
    for event in &events {
        if args.agents.is_empty() && !agents.iter().any(|agent| agent == event.agent_name()) {
            agents.push(event.agent_name().to_owned());
        }
        if args.tickets.is_empty()
            && !event.ticket_key().is_empty()
            && !tickets.iter().any(|t| t == event.ticket_key())
        {
            tickets.push(event.ticket_key().to_owned());
        }
    }
    let now = crate::clock::now();
    let first = events.iter().map(|e| e.started_at()).min_by_key(Timestamp::instant);
    let last = events.iter().map(|e| e.ended_at()).max_by_key(Timestamp::instant);
    let started_at = started_at.unwrap_or_else(|| first.unwrap_or(now));
    let ended_at = ended_at.unwrap_or_else(|| last.unwrap_or(now).max_by_instant(started_at));
    let input = NewSessionSummary {
        session_id: args.session.clone(),
        session_number: args.number.unwrap_or(state.total_sessions() + 1),
        session_type: match args.session_type {
            SessionTypeArg::Initializer => SessionType::Initializer,
            SessionTypeArg::Continuation => SessionType::Continuation,
        },
        started_at,
        ended_at,
        status: match args.status {
            SessionStatusArg::Continue => SessionStatus::Continue,
            SessionStatusArg::Error => SessionStatus::Error,
            SessionStatusArg::Complete => SessionStatus::Complete,
        },
        agents_invoked: agents,
        total_tokens: args.tokens.unwrap_or_else(|| events.iter().map(|e| e.total_tokens()).sum()),
        total_cost_usd: args
            .cost
            .unwrap_or_else(|| events.iter().map(|e| e.estimated_cost_usd()).sum()),
        tickets_worked: tickets,
    };
    SessionSummary::new(input)
}

/// The later of two timestamps by instant.
trait LaterOf {
    fn max_by_instant(self, other: Timestamp) -> Timestamp;
}

impl LaterOf for Timestamp {
    fn max_by_instant(self, other: Timestamp) -> Timestamp {
        if self.instant() >= other.instant() { self } else { other }
    }
}
