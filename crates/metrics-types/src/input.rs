//! What writers send: events and sessions as JSON, with the file format's field names and
//! everything that can be derived left optional. The one definition behind `agent-metrics
//! record --json`, `record stream` and the server's `POST /api/v1/events` and
//! `POST /api/v1/sessions`, so all of them accept the same fields and refuse the same values
//! with the same messages.
//!
//! ```
//! use metrics_types::{EventInput, Timestamp};
//!
//! let now: Timestamp = "2026-02-14T17:10:00+00:00".parse().unwrap();
//! let inputs = EventInput::parse_many(r#"[{"agent_name": "coding", "status": "success",
//!     "input_tokens": 1200, "duration_seconds": 30}]"#)?;
//! let event = inputs.into_iter().next().unwrap().into_event(now, || "evt-1".into())?;
//! assert_eq!(event.started_at().to_string(), "2026-02-14T17:09:30+00:00");
//! # Ok::<(), metrics_types::ValidationError>(())
//! ```

use serde::Deserialize;

use crate::{
    AgentEvent, DashboardState, EventInput, EventStatus, NewAgentEvent, NewSessionSummary,
    SessionStatus, SessionSummary, SessionType, Timestamp, ValidationError,
};

impl EventInput {
    /// Parses one JSON object, a JSON array of objects, or JSON lines (one object or array
    /// per line). Errors name the line (or array index) and say what is wrong; nothing is
    /// returned unless every event parses.
    pub fn parse_many(text: &str) -> Result<Vec<EventInput>, ValidationError> {
        Ok(EventInput::parse_located(text)?.into_iter().map(|(_, input)| input).collect())
    }

    /// As [`EventInput::parse_many`], each input with where it was: `the event`,
    /// `event 3` (of an array) or `line 7` (of JSON lines), for messages about it.
    pub fn parse_located(text: &str) -> Result<Vec<(String, EventInput)>, ValidationError> {
        // A UTF-8 byte order mark (Windows editors, PowerShell) is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let trimmed = text.trim_start();
        if trimmed.is_empty() {
            return Err(input_error("the input", "holds no event"));
        }
        // A whole document first (one object or one array, possibly over many lines).
        let whole = if trimmed.starts_with('[') {
            serde_json::from_str::<Vec<EventInput>>(text)
                .map(|all| {
                    let places = (1..).map(|n| format!("event {n}"));
                    places.zip(all).collect::<Vec<_>>()
                })
                .map_err(|err| ("the array", err))
        } else {
            serde_json::from_str::<EventInput>(text)
                .map(|one| vec![("the event".to_owned(), one)])
                .map_err(|err| ("the event", err))
        };
        let (place, whole_error) = match whole {
            Ok(inputs) if inputs.is_empty() => {
                return Err(input_error("the array", "holds no event"));
            }
            Ok(inputs) => return Ok(inputs),
            Err(failure) => failure,
        };
        // Not one document: JSON lines, each line an object or an array.
        let lines: Vec<(usize, &str)> =
            text.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()).collect();
        if lines.len() < 2 {
            return Err(input_error(place, &whole_error.to_string()));
        }
        let mut inputs = Vec::new();
        for (idx, line) in lines {
            let place = format!("line {}", idx + 1);
            let parsed = EventInput::parse_line(line)
                .map_err(|message| ValidationError::Input { place: place.clone(), message })?;
            inputs.extend(parsed.into_iter().map(|input| (place.clone(), input)));
        }
        // Lines of empty arrays (found by fuzzing: `[]\n[]`) are no event either.
        if inputs.is_empty() {
            return Err(input_error("the input", "holds no event"));
        }
        Ok(inputs)
    }

    /// Parses one line of a stream: an object, or an array of objects written together.
    pub fn parse_line(line: &str) -> Result<Vec<EventInput>, String> {
        if line.trim_start().starts_with('[') {
            serde_json::from_str(line).map_err(|err| err.to_string())
        } else {
            serde_json::from_str(line).map(|one| vec![one]).map_err(|err| err.to_string())
        }
    }

    /// Builds the event: parses the status and the times, derives what was left out (`now`
    /// is the end when neither end nor start is given; `new_id` names an event without an
    /// id), and checks every rule of [`AgentEvent::new`].
    pub fn into_event(
        mut self,
        now: Timestamp,
        new_id: impl FnOnce() -> String,
    ) -> Result<AgentEvent, ValidationError> {
        // The special fields by hand (see the field list in `event.rs`); the plain ones are
        // carried by their kinds.
        let status = EventStatus::parse_known(&self.status).ok_or_else(|| {
            input_error(
                "status",
                &format!(
                    "unknown status {:?} (expected success, error, timeout or blocked)",
                    self.status
                ),
            )
        })?;
        let started_at =
            self.started_at.as_deref().map(|t| parse_time("started_at", t)).transpose()?;
        let ended_at = self.ended_at.as_deref().map(|t| parse_time("ended_at", t)).transpose()?;
        let (started_at, ended_at, duration_seconds) =
            event_times(started_at, ended_at, self.duration_seconds, now)?;
        let (input_tokens, output_tokens) = (self.input_tokens, self.output_tokens);
        if let Some(total) = self.total_tokens
            && Some(total) != input_tokens.checked_add(output_tokens)
        {
            return Err(input_error(
                "total_tokens",
                &format!(
                    "is {total} but input_tokens + output_tokens is {input_tokens} + {output_tokens}"
                ),
            ));
        }
        let mut built = NewAgentEvent {
            event_id: self.event_id.take().unwrap_or_else(new_id),
            agent_name: std::mem::take(&mut self.agent_name),
            started_at,
            ended_at: Some(ended_at),
            status,
            duration_seconds,
            ..NewAgentEvent::blank()
        };
        self.carry_plain_fields(&mut built);
        AgentEvent::new(built)
    }
}

/// One session as a writer sends it. Only `session_id`, `session_type` and `status` are
/// required; everything else is derived from the session's events in the state it is
/// recorded into (see [`SessionInput::into_session`]).
///
/// With the `clap` feature this is also the flag list of `agent-metrics record session`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionInput {
    /// The session's id.
    #[serde(alias = "session")]
    #[cfg_attr(feature = "clap", arg(long = "session", value_name = "ID"))]
    pub session_id: String,
    /// `initializer` or `continuation`.
    #[serde(alias = "type")]
    #[cfg_attr(feature = "clap", arg(long = "type", value_parser = flags::names_of(SessionType::KNOWN.iter().map(SessionType::as_str))))]
    pub session_type: String,
    /// How it ended: `continue`, `error` or `complete`.
    #[cfg_attr(feature = "clap", arg(long, value_parser = flags::names_of(SessionStatus::KNOWN.iter().map(SessionStatus::as_str))))]
    pub status: String,
    /// Its ordinal (default: one more than the sessions recorded so far).
    #[serde(alias = "number")]
    #[cfg_attr(feature = "clap", arg(long = "number", value_name = "N"))]
    pub session_number: Option<u64>,
    /// Agents it ran (default: from its events, in first-use order; as a flag: repeatable).
    #[serde(default, alias = "agents")]
    #[cfg_attr(feature = "clap", arg(long = "agent", value_name = "NAME"))]
    pub agents_invoked: Vec<String>,
    /// Tickets (default: from its events; as a flag: repeatable).
    #[serde(default, alias = "tickets")]
    #[cfg_attr(feature = "clap", arg(long = "ticket", value_name = "KEY"))]
    pub tickets_worked: Vec<String>,
    /// Tokens (default: the sum over its events).
    #[serde(alias = "tokens")]
    #[cfg_attr(feature = "clap", arg(long = "tokens", allow_negative_numbers = true))]
    pub total_tokens: Option<u64>,
    /// Cost in US dollars (default: the sum over its events).
    #[serde(alias = "cost")]
    #[cfg_attr(
        feature = "clap",
        arg(long = "cost", value_name = "USD", allow_negative_numbers = true)
    )]
    pub total_cost_usd: Option<f64>,
    /// RFC 3339 start (default: its first event's start, else now).
    #[cfg_attr(feature = "clap", arg(long, value_name = "TS"))]
    pub started_at: Option<String>,
    /// RFC 3339 end (default: its last event's end, else now).
    #[cfg_attr(feature = "clap", arg(long, value_name = "TS"))]
    pub ended_at: Option<String>,
}

impl SessionInput {
    /// A session input with the required fields and nothing else.
    pub fn new(session_id: &str, session_type: SessionType, status: SessionStatus) -> Self {
        SessionInput {
            session_id: session_id.to_owned(),
            session_type: session_type.as_str().to_owned(),
            status: status.as_str().to_owned(),
            session_number: None,
            started_at: None,
            ended_at: None,
            agents_invoked: Vec::new(),
            total_tokens: None,
            total_cost_usd: None,
            tickets_worked: Vec::new(),
        }
    }

    /// Builds the summary from the state it will be recorded into: unset fields come from
    /// the session's recorded events (agents and tickets in first-use order, token and cost
    /// sums, first start and last end), the number from the sessions recorded so far.
    /// Call it inside the locked update so two writers never share a number.
    pub fn into_session(
        &self,
        state: &DashboardState,
        now: Timestamp,
    ) -> Result<SessionSummary, ValidationError> {
        let session_type = SessionType::parse_known(&self.session_type).ok_or_else(|| {
            input_error(
                "session_type",
                &format!(
                    "unknown session type {:?} (expected initializer or continuation)",
                    self.session_type
                ),
            )
        })?;
        let status = SessionStatus::parse_known(&self.status).ok_or_else(|| {
            input_error(
                "status",
                &format!("unknown status {:?} (expected continue, error or complete)", self.status),
            )
        })?;
        let started_at =
            self.started_at.as_deref().map(|t| parse_time("started_at", t)).transpose()?;
        let ended_at = self.ended_at.as_deref().map(|t| parse_time("ended_at", t)).transpose()?;
        let events: Vec<&AgentEvent> =
            state.events().iter().filter(|e| e.session_id() == self.session_id).collect();
        let mut agents = self.agents_invoked.clone();
        let mut tickets = self.tickets_worked.clone();
        for event in &events {
            if self.agents_invoked.is_empty() && !agents.iter().any(|a| a == event.agent_name()) {
                agents.push(event.agent_name().to_owned());
            }
            if self.tickets_worked.is_empty()
                && !event.ticket_key().is_empty()
                && !tickets.iter().any(|t| t == event.ticket_key())
            {
                tickets.push(event.ticket_key().to_owned());
            }
        }
        let first = events.iter().map(|e| e.started_at()).min_by_key(Timestamp::instant);
        let last = events.iter().map(|e| e.ended_at()).max_by_key(Timestamp::instant);
        let started_at = started_at.unwrap_or_else(|| first.unwrap_or(now));
        let ended_at = ended_at.unwrap_or_else(|| later_of(last.unwrap_or(now), started_at));
        let total_tokens = match self.total_tokens {
            Some(tokens) => tokens,
            None => events
                .iter()
                .try_fold(0u64, |sum, e| sum.checked_add(e.total_tokens()))
                .ok_or_else(|| {
                    input_error(
                        "total_tokens",
                        "the sum of the session's event tokens is too large",
                    )
                })?,
        };
        // A sum starting at +0.0 (not the -0.0 of `Sum`), so an empty session costs 0, not -0.
        let total_cost_usd = self
            .total_cost_usd
            .unwrap_or_else(|| events.iter().fold(0.0, |sum, e| sum + e.estimated_cost_usd()));
        SessionSummary::new(NewSessionSummary {
            session_id: self.session_id.clone(),
            session_number: self.session_number.unwrap_or(state.total_sessions() + 1),
            session_type,
            started_at,
            ended_at,
            status,
            agents_invoked: agents,
            total_tokens,
            total_cost_usd,
            tickets_worked: tickets,
        })
    }
}

/// Start, end and duration from whichever of them were given: the end defaults to the start
/// plus the duration, else `now`; the start to the end minus the duration; the duration to
/// the time between them, else 0.
pub fn event_times(
    started_at: Option<Timestamp>,
    ended_at: Option<Timestamp>,
    duration: Option<f64>,
    now: Timestamp,
) -> Result<(Timestamp, Timestamp, f64), ValidationError> {
    let out_of_range = || input_error("the times", "are out of range");
    let (started_at, ended_at) = match (started_at, ended_at) {
        (Some(start), Some(end)) => (start, end),
        (Some(start), None) => {
            (start, start.plus_seconds(duration.unwrap_or(0.0)).ok_or_else(out_of_range)?)
        }
        (None, end) => {
            let end = end.unwrap_or(now);
            (end.plus_seconds(-duration.unwrap_or(0.0)).ok_or_else(out_of_range)?, end)
        }
    };
    let between =
        (ended_at.instant().as_microsecond() - started_at.instant().as_microsecond()) as f64 / 1e6;
    Ok((started_at, ended_at, duration.unwrap_or(between.max(0.0))))
}

fn parse_time(field: &str, text: &str) -> Result<Timestamp, ValidationError> {
    text.parse().map_err(|err: crate::TimestampError| input_error(field, &err.to_string()))
}

fn later_of(a: Timestamp, b: Timestamp) -> Timestamp {
    if a.instant() >= b.instant() { a } else { b }
}

fn input_error(place: &str, message: &str) -> ValidationError {
    ValidationError::Input { place: place.to_owned(), message: message.to_owned() }
}

#[cfg(test)]
mod tests;

/// Helpers of the `clap` derives of the inputs (here and in `event.rs`).
#[cfg(feature = "clap")]
pub(crate) mod flags {
    /// A flag value that must be one of `names` (offered in help and completions), kept as
    /// the name, so the input's own parse gives the one message for a wrong value. The empty
    /// string is accepted but never offered: it is the default of a flag that is required
    /// only without `--json -`, and the command says it is missing.
    pub(crate) fn names_of(
        names: impl Iterator<Item = &'static str>,
    ) -> clap::builder::PossibleValuesParser {
        let unset = clap::builder::PossibleValue::new("").hide(true);
        clap::builder::PossibleValuesParser::new(
            names.map(clap::builder::PossibleValue::new).chain([unset]),
        )
    }
}
