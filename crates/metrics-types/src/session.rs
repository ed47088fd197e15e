//! `SessionSummary`: the roll-up of one working session, and `NewSessionSummary` to build one.

use crate::event::non_negative;
use crate::{SessionStatus, SessionType, Timestamp, ValidationError, validate};

wire_struct! {
    /// What one session did: its agents, tickets, tokens and cost.
    ///
    /// Built only through [`SessionSummary::new`] (which validates) or by loading a
    /// [`crate::DashboardState`].
    #[derive(Debug, Clone, PartialEq)]
    pub struct SessionSummary {
        session_id: String = required,
        session_number: i64 = default,
        session_type: SessionType = required,
        started_at: Timestamp = required,
        ended_at: Timestamp = required,
        status: SessionStatus = required,
        agents_invoked: Vec<String> = default,
        total_tokens: i64 = default,
        total_cost_usd: f64 = default,
        tickets_worked: Vec<String> = default,
    }
}

/// Everything needed to build a [`SessionSummary`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewSessionSummary {
    /// Unique id; recording an id that is already stored changes nothing.
    pub session_id: String,
    /// The session's ordinal in the project, from 1.
    pub session_number: u64,
    /// Whether it started the project or continued it.
    pub session_type: SessionType,
    /// When it started.
    pub started_at: Timestamp,
    /// When it ended.
    pub ended_at: Timestamp,
    /// How it ended.
    pub status: SessionStatus,
    /// Agents it ran, in first-use order.
    pub agents_invoked: Vec<String>,
    /// Tokens of all its events.
    pub total_tokens: u64,
    /// Estimated cost of all its events in US dollars.
    pub total_cost_usd: f64,
    /// Tickets it worked on.
    pub tickets_worked: Vec<String>,
}

impl SessionSummary {
    /// Builds a session summary, checking every rule a session in a file must follow.
    pub fn new(input: NewSessionSummary) -> Result<SessionSummary, ValidationError> {
        let mut early = Vec::new();
        let mut to_i64 = |field: &str, n: u64| {
            i64::try_from(n).unwrap_or_else(|_| {
                early.push(crate::event::too_large(field, n));
                0
            })
        };
        let session_number = to_i64("session_number", input.session_number);
        let total_tokens = to_i64("total_tokens", input.total_tokens);
        if input.session_id.len() > crate::MAX_IDENTIFIER_BYTES {
            early.push(crate::Violation {
                path: "session_id".to_owned(),
                message: format!(
                    "is {} bytes long, more than the limit of {} for an identifier",
                    input.session_id.len(),
                    crate::MAX_IDENTIFIER_BYTES
                ),
            });
        }
        if !early.is_empty() {
            return Err(ValidationError::Invalid { violations: early });
        }
        let session = SessionSummary {
            session_id: input.session_id,
            session_number,
            session_type: input.session_type,
            started_at: input.started_at,
            ended_at: input.ended_at,
            status: input.status,
            agents_invoked: input.agents_invoked,
            total_tokens,
            total_cost_usd: input.total_cost_usd,
            tickets_worked: input.tickets_worked,
            unknown: Default::default(),
            wire: Default::default(),
        };
        validate::standalone(|report| validate::session(report, &session, &|| String::new()))?;
        Ok(session)
    }

    /// Unique id of the session.
    pub fn session_id(&self) -> &str {
        &self.session_id
    }
    /// The session's ordinal in the project.
    pub fn session_number(&self) -> u64 {
        non_negative(self.session_number)
    }
    /// Whether it started the project or continued it.
    pub fn session_type(&self) -> &SessionType {
        &self.session_type
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
    pub fn status(&self) -> &SessionStatus {
        &self.status
    }
    /// Agents it ran.
    pub fn agents_invoked(&self) -> &[String] {
        &self.agents_invoked
    }
    /// Tokens of all its events.
    pub fn total_tokens(&self) -> u64 {
        non_negative(self.total_tokens)
    }
    /// Estimated cost in US dollars.
    pub fn total_cost_usd(&self) -> f64 {
        self.total_cost_usd
    }
    /// Tickets it worked on.
    pub fn tickets_worked(&self) -> &[String] {
        &self.tickets_worked
    }
}
