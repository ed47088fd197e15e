//! `AgentEvent`: one agent invocation, and `NewAgentEvent`, the input that builds one.

use crate::{EventStatus, Timestamp, ValidationError, validate};

wire_struct! {
    /// One invocation of one agent: who, when, how it ended, and what it cost.
    ///
    /// Fields are read through getters; an event is built only through [`AgentEvent::new`]
    /// (which validates) or by loading a [`crate::DashboardState`]. Fields this version does not
    /// know are kept and written back.
    #[derive(Debug, Clone, PartialEq)]
    pub struct AgentEvent {
        event_id: String = required,
        agent_name: String = required,
        session_id: String = default,
        ticket_key: String = default,
        started_at: Timestamp = required,
        ended_at: Timestamp = required,
        status: EventStatus = required,
        input_tokens: Option<i64> = default,
        output_tokens: Option<i64> = default,
        total_tokens: i64 = default,
        estimated_cost_usd: f64 = default,
        duration_seconds: f64 = default,
        artifacts: Vec<String> = default,
        error_message: String = default,
        model_used: String = default,
    }
}

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
pub struct NewAgentEvent {
    /// Unique id; recording an id that is already stored changes nothing.
    pub event_id: String,
    /// The agent that ran.
    pub agent_name: String,
    /// The session it ran in (may be empty).
    pub session_id: String,
    /// The ticket it worked on (may be empty).
    pub ticket_key: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended; `None` means `started_at + duration_seconds`.
    pub ended_at: Option<Timestamp>,
    /// How it ended.
    pub status: EventStatus,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Estimated cost in US dollars.
    pub estimated_cost_usd: f64,
    /// Wall-clock duration in seconds.
    pub duration_seconds: f64,
    /// What it produced (`file:…`, `commit:…`, `pr:#12`).
    pub artifacts: Vec<String>,
    /// The error, for failed events (may be empty).
    pub error_message: String,
    /// The model that ran it (may be empty).
    pub model_used: String,
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
            session_id: String::new(),
            ticket_key: String::new(),
            started_at,
            ended_at: None,
            status,
            input_tokens: 0,
            output_tokens: 0,
            estimated_cost_usd: 0.0,
            duration_seconds: 0.0,
            artifacts: Vec::new(),
            error_message: String::new(),
            model_used: String::new(),
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
    pub fn new(input: NewAgentEvent) -> Result<AgentEvent, ValidationError> {
        // Every field by name: a field added to `NewAgentEvent` and not carried into the event
        // is an unused binding (a compile error under `-D warnings`), never silently dropped.
        let NewAgentEvent {
            event_id,
            agent_name,
            session_id,
            ticket_key,
            started_at,
            ended_at,
            status,
            input_tokens,
            output_tokens,
            estimated_cost_usd,
            duration_seconds,
            artifacts,
            error_message,
            model_used,
        } = input;
        let mut early = Vec::new();
        let mut to_i64 = |field: &str, n: u64| {
            i64::try_from(n).unwrap_or_else(|_| {
                early.push(too_large(field, n));
                0
            })
        };
        let input_count = input_tokens;
        let output_count = output_tokens;
        let input_tokens = to_i64("input_tokens", input_count);
        let output_tokens = to_i64("output_tokens", output_count);
        let total_tokens = input_tokens.checked_add(output_tokens).unwrap_or_else(|| {
            early.push(too_large("total_tokens", input_count.saturating_add(output_count)));
            0
        });
        for (field, value) in [
            ("event_id", &event_id),
            ("agent_name", &agent_name),
            ("session_id", &session_id),
            ("ticket_key", &ticket_key),
            ("model_used", &model_used),
        ] {
            if value.len() > crate::MAX_IDENTIFIER_BYTES {
                early.push(crate::Violation {
                    path: field.to_owned(),
                    message: format!(
                        "is {} bytes long, more than the limit of {} for an identifier",
                        value.len(),
                        crate::MAX_IDENTIFIER_BYTES
                    ),
                });
            }
        }
        for (field, value) in [("event_id", &event_id), ("agent_name", &agent_name)] {
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
        if !early.is_empty() {
            return Err(ValidationError::Invalid { violations: early });
        }
        let ended_at = match ended_at {
            Some(ended_at) => ended_at,
            None => started_at.plus_seconds(duration_seconds).unwrap_or(started_at),
        };
        let event = AgentEvent {
            event_id,
            agent_name,
            session_id,
            ticket_key,
            started_at,
            ended_at,
            status,
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
            total_tokens,
            estimated_cost_usd,
            duration_seconds,
            artifacts: bounded_artifacts(artifacts),
            error_message: crate::limits::truncate_text(
                error_message,
                crate::MAX_ERROR_MESSAGE_BYTES,
            ),
            model_used,
            unknown: Default::default(),
            wire: Default::default(),
        };
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
    /// The session it ran in; empty when unknown.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    /// The ticket it worked on; empty when unknown.
    pub fn ticket_key(&self) -> &str {
        &self.ticket_key
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
    /// Prompt tokens, when the file records them.
    pub fn input_tokens(&self) -> Option<u64> {
        self.input_tokens.map(non_negative)
    }
    /// Completion tokens, when the file records them.
    pub fn output_tokens(&self) -> Option<u64> {
        self.output_tokens.map(non_negative)
    }
    /// All tokens of the invocation.
    pub fn total_tokens(&self) -> u64 {
        non_negative(self.total_tokens)
    }
    /// Estimated cost in US dollars.
    pub fn estimated_cost_usd(&self) -> f64 {
        self.estimated_cost_usd
    }
    /// Wall-clock duration in seconds.
    pub fn duration_seconds(&self) -> f64 {
        self.duration_seconds
    }
    /// What it produced.
    pub fn artifacts(&self) -> &[String] {
        &self.artifacts
    }
    /// The error of a failed event; empty otherwise.
    pub fn error_message(&self) -> &str {
        &self.error_message
    }
    /// The model that ran it; empty when unknown.
    pub fn model_used(&self) -> &str {
        &self.model_used
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

pub(crate) fn too_large(field: &str, value: u64) -> crate::Violation {
    crate::Violation {
        path: field.to_owned(),
        message: format!(
            "is {value}, larger than the largest count the file can hold ({})",
            i64::MAX
        ),
    }
}

/// Each artifact cut to [`crate::MAX_ARTIFACT_BYTES`], at most [`crate::MAX_ARTIFACTS`] of
/// them, the last saying how many more there were.
fn bounded_artifacts(mut artifacts: Vec<String>) -> Vec<String> {
    if artifacts.len() > crate::MAX_ARTIFACTS {
        let left_out = artifacts.len() - (crate::MAX_ARTIFACTS - 1);
        artifacts.truncate(crate::MAX_ARTIFACTS - 1);
        artifacts.push(format!("… [{left_out} more artifacts left out]"));
    }
    artifacts
        .into_iter()
        .map(|artifact| crate::limits::truncate_text(artifact, crate::MAX_ARTIFACT_BYTES))
        .collect()
}

/// Reads a stored count; negative values exist only in states that failed validation.
pub(crate) fn non_negative(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}
