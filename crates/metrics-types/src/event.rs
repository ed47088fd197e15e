//! An event's one field list and its three faces: `AgentEvent` (one agent invocation as the
//! file holds it), `NewAgentEvent` (what a Rust caller builds one from) and `EventInput`
//! (what a writer sends, as JSON or `record event` flags; parsed in `input.rs`).
//!
//! Adding a field: one line in the list below (doc comment, name, kind, how a writer spells
//! it) and one row in docs/format.md. Its kind (`declare.rs`, `kinds.rs`) gives it a field on
//! each face, a getter, a default, its limits on recording and its rule on loading; the CLI
//! flags, the JSON input, the server and the CSV export follow from the faces.

use crate::{EventStatus, Timestamp, ValidationError, validate};

#[macro_use]
mod declare;
mod kinds;
#[cfg(test)]
mod tests;

pub(crate) use kinds::{non_negative, too_large};

event_fields! {
    stored:
    /// One invocation of one agent: who, when, how it ended, and what it cost.
    ///
    /// Fields are read through getters; an event is built only through [`AgentEvent::new`]
    /// (which validates) or by loading a [`crate::DashboardState`]. Fields this version does not
    /// know are kept and written back.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AgentEvent;

    built:
    /// Everything needed to build an [`AgentEvent`]; `total_tokens` is derived from the two counts.
    ///
    /// ```
    /// use metrics_types::{AgentEvent, EventStatus, NewAgentEvent, Timestamp};
    ///
    /// let started_at: Timestamp = "2026-02-14T17:10:00+00:00".parse().unwrap();
    /// let event = AgentEvent::new(NewAgentEvent {
    ///     input_tokens: 2400,
    ///     output_tokens: 1100,
    ///     estimated_cost_usd: 0.0315,
    ///     duration_seconds: 41.5,
    ///     ..NewAgentEvent::new("evt-1", "coding", EventStatus::Success, started_at)
    /// })
    /// .unwrap();
    /// assert_eq!(event.total_tokens(), 3500);
    /// assert_eq!(event.ended_at().to_string(), "2026-02-14T17:10:41.500000+00:00");
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct NewAgentEvent;

    sent:
    /// One event as a writer sends it. Only `agent_name` and `status` are required; the CLI's
    /// flag names (`agent`, `session`, `ticket`, `cost`, `duration`, `model`) are accepted as
    /// aliases. Unknown fields are refused, so a misspelt field is an error, not a silent zero.
    ///
    /// With the `clap` feature this is also the flag list of `agent-metrics record event`
    /// (`--agent`, `--status`, ...): one definition for the flags, the JSON input and the
    /// server. See [`EventInput::into_event`].
    #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
    #[cfg_attr(feature = "clap", derive(clap::Args))]
    #[serde(deny_unknown_fields)]
    #[non_exhaustive]
    pub struct EventInput;

    // The one list of an event's fields, in the order the file holds them. A new field is a
    // line here (its doc comment, its name, its kind, how a writer spells it) and a line in
    // docs/format.md; `declare.rs` says what the kinds mean.
    fields:
    /// Unique id; recording an id that is already stored changes nothing (sent without one:
    /// generated).
    event_id: special { stored: String = required, built: String, sent: Option<String> }
        sent as { #[cfg_attr(feature = "clap", arg(long))] };
    /// The agent that ran.
    agent_name: special { stored: String = required, built: String, sent: String }
        sent as {
            #[serde(alias = "agent")]
            #[cfg_attr(feature = "clap", arg(
                long = "agent",
                value_name = "NAME",
                default_value = "",
                hide_default_value = true,
                required_unless_present = "json"
            ))]
        };
    /// The session it ran in; empty when unknown.
    session_id: label
        sent as {
            #[serde(alias = "session")]
            #[cfg_attr(feature = "clap", arg(long = "session", value_name = "ID"))]
        };
    /// The ticket it worked on; empty when unknown.
    ticket_key: label
        sent as {
            #[serde(alias = "ticket")]
            #[cfg_attr(feature = "clap", arg(long = "ticket", value_name = "KEY"))]
        };
    /// When it started (sent as RFC 3339 text; left out: the end minus the duration).
    started_at: special { stored: Timestamp = required, built: Timestamp, sent: Option<String> }
        sent as { #[cfg_attr(feature = "clap", arg(long, value_name = "TS"))] };
    /// When it ended (sent as RFC 3339 text; left out: the start plus the duration, else now).
    ended_at: special {
        stored: Timestamp = required,
        built: Option<Timestamp>,
        sent: Option<String>
    }
        sent as { #[cfg_attr(feature = "clap", arg(long, value_name = "TS"))] };
    /// How it ended: `success`, `error`, `timeout` or `blocked`.
    status: special { stored: EventStatus = required, built: EventStatus, sent: String }
        sent as {
            #[cfg_attr(feature = "clap", arg(
                long,
                default_value = "",
                hide_default_value = true,
                required_unless_present = "json",
                value_parser = crate::input::flags::names_of(
                    EventStatus::KNOWN.iter().map(EventStatus::as_str)
                )
            ))]
        };
    /// Prompt tokens.
    input_tokens: count sent as { #[cfg_attr(feature = "clap", arg(long))] };
    /// Completion tokens.
    output_tokens: count sent as { #[cfg_attr(feature = "clap", arg(long))] };
    /// All tokens, `input_tokens + output_tokens`: derived (a writer may send it, and then it
    /// must be that sum).
    total_tokens: special { stored: i64 = default, sent: Option<u64> }
        sent as { #[cfg_attr(feature = "clap", arg(long, allow_negative_numbers = true))] };
    /// Estimated cost in US dollars.
    estimated_cost_usd: amount
        sent as {
            #[serde(alias = "cost")]
            #[cfg_attr(feature = "clap", arg(long = "cost", value_name = "USD"))]
        };
    /// Wall-clock duration in seconds (left out: the time between start and end, else 0).
    duration_seconds: special { stored: f64 = default, built: f64, sent: Option<f64> }
        sent as {
            #[serde(alias = "duration")]
            #[cfg_attr(feature = "clap", arg(
                long = "duration",
                value_name = "SECS",
                allow_negative_numbers = true
            ))]
        };
    /// What it produced (`file:…`, `commit:…`, `pr:#12`; as a flag: repeatable).
    artifacts: text_list
        sent as { #[cfg_attr(feature = "clap", arg(long = "artifact", value_name = "A"))] };
    /// The error of a failed event; empty otherwise.
    error_message: free_text
        sent as { #[cfg_attr(feature = "clap", arg(long = "error", value_name = "MSG"))] };
    /// The model that ran it; empty when unknown.
    model_used: label
        sent as {
            #[serde(alias = "model")]
            #[cfg_attr(feature = "clap", arg(long = "model", value_name = "MODEL"))]
        };
}

impl NewAgentEvent {
    /// An event with the required fields set and everything else zero or empty.
    pub fn new(
        event_id: &str,
        agent_name: &str,
        status: EventStatus,
        started_at: Timestamp,
    ) -> Self {
        NewAgentEvent {
            event_id: event_id.to_owned(),
            agent_name: agent_name.to_owned(),
            status,
            started_at,
            ..NewAgentEvent::blank()
        }
    }
}

impl AgentEvent {
    /// Builds an event, checking every rule an event in a file must follow.
    ///
    /// Fails with [`ValidationError::Invalid`] listing every violation (paths are the field
    /// names), e.g. for an empty id, a negative duration, an end before the start, a count
    /// larger than the file can hold, or an identifier longer than
    /// [`crate::MAX_IDENTIFIER_BYTES`]. Free text is bounded instead of refused, so the event
    /// is still recorded: an `error_message` past [`crate::MAX_ERROR_MESSAGE_BYTES`] and each
    /// artifact past [`crate::MAX_ARTIFACT_BYTES`] are cut and end with
    /// [`crate::truncation_marker`]; past [`crate::MAX_ARTIFACTS`] artifacts the list ends
    /// with one entry saying how many were left out.
    pub fn new(mut input: NewAgentEvent) -> Result<AgentEvent, ValidationError> {
        let mut early = Vec::new();
        let mut event = AgentEvent::all_defaults();
        // The plain fields as their kinds carry them; then the special ones, by hand.
        event.carry_plain_fields(&mut input, &mut early);
        let NewAgentEvent {
            event_id,
            agent_name,
            started_at,
            ended_at,
            status,
            duration_seconds,
            ..
        } = input;
        event.event_id = kinds::carry_label("event_id", event_id, &mut early);
        event.agent_name = kinds::carry_label("agent_name", agent_name, &mut early);
        for (field, value) in [("event_id", &event.event_id), ("agent_name", &event.agent_name)] {
            let visible = value.chars().any(|c| !c.is_whitespace() && !c.is_control());
            if !value.is_empty() && !visible {
                early.push(crate::Violation {
                    path: field.to_owned(),
                    message: format!(
                        "is {value:?}: only whitespace or control characters; it must show something"
                    ),
                });
            }
        }
        let (input_count, output_count) =
            (event.input_tokens.unwrap_or(0), event.output_tokens.unwrap_or(0));
        event.total_tokens = input_count.checked_add(output_count).unwrap_or_else(|| {
            let sum = non_negative(input_count).saturating_add(non_negative(output_count));
            early.push(too_large("total_tokens", sum));
            0
        });
        if !early.is_empty() {
            return Err(ValidationError::Invalid { violations: early });
        }
        event.ended_at = match ended_at {
            Some(ended_at) => ended_at,
            None => started_at.plus_seconds(duration_seconds).unwrap_or(started_at),
        };
        event.started_at = started_at;
        event.status = status;
        event.duration_seconds = duration_seconds;
        validate::standalone(|report| validate::event(report, &event, &|| String::new()))?;
        Ok(event)
    }

    /// Unique id of the event.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
    /// The agent that ran.
    pub fn agent_name(&self) -> &str {
        &self.agent_name
    }
    /// When it started.
    pub fn started_at(&self) -> Timestamp {
        self.started_at
    }
    /// When it ended.
    pub fn ended_at(&self) -> Timestamp {
        self.ended_at
    }
    /// How it ended.
    pub fn status(&self) -> &EventStatus {
        &self.status
    }
    /// All tokens of the invocation.
    pub fn total_tokens(&self) -> u64 {
        non_negative(self.total_tokens)
    }
    /// Wall-clock duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.duration_seconds
    }

    /// The names of an event's fields in the file format, in the order they are written: the
    /// columns of a table of events (`agent-metrics export --format csv`), which therefore
    /// follow this struct when a field is added.
    pub fn field_names() -> &'static [&'static str] {
        AgentEvent::FIELD_NAMES
    }

    /// The event's fields as text, one per [`AgentEvent::field_names`], as the file holds them
    /// (a value kept verbatim, such as a `null` the Python dashboard wrote, is shown as it is):
    /// strings as they are, numbers as JSON writes them, `null` as nothing, a list of strings
    /// joined with `;`, anything else as JSON.
    pub fn field_texts(&self) -> Vec<String> {
        let Ok(serde_json::Value::Object(record)) = serde_json::to_value(self) else {
            return vec![String::new(); AgentEvent::FIELD_NAMES.len()];
        };
        let text = |value: &serde_json::Value| match value {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Array(items) if items.iter().all(serde_json::Value::is_string) => {
                let items: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
                items.join(";")
            }
            other => other.to_string(),
        };
        AgentEvent::FIELD_NAMES
            .iter()
            .map(|name| record.get(*name).map(text).unwrap_or_default())
            .collect()
    }
}
