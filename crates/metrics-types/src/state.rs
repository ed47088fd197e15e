//! `DashboardState`: the whole file, with loading, validation entry points and serialization.

use std::collections::BTreeMap;

use crate::event::non_negative;
use crate::{
    AgentEvent, AgentProfile, Limits, SessionSummary, Timestamp, ValidationError, validate,
};

/// The format version this crate writes. Files with a larger version come from a newer tool.
pub const FORMAT_VERSION: u64 = 1;

wire_struct! {
    /// The whole metrics file: project totals, one profile per agent, and the latest events and
    /// sessions (oldest first).
    ///
    /// Load it with [`DashboardState::from_json`], change it only through the recording methods
    /// ([`DashboardState::record_event`] and friends), and write it with
    /// [`DashboardState::to_json`]. Fields and enum values this version does not know are kept
    /// and written back, so a file written by another tool loses nothing in a round trip.
    ///
    /// ```
    /// use metrics_types::{DashboardState, Limits};
    ///
    /// let json = br#"{"version": 1, "project_name": "demo", "agents": {}, "events": [],
    ///                 "sessions": [], "written_by": "python"}"#;
    /// let state = DashboardState::from_json(json, &Limits::DEFAULT).unwrap();
    /// assert_eq!(state.project_name(), "demo");
    /// let again = DashboardState::from_json(&state.to_json(), &Limits::DEFAULT).unwrap();
    /// assert_eq!(again, state);
    /// assert!(String::from_utf8(state.to_json()).unwrap().contains(r#""written_by":"python""#));
    /// ```
    #[derive(Debug, Clone, PartialEq)]
    pub struct DashboardState {
        version: u64 = (FORMAT_VERSION),
        project_name: String = default,
        #[serde(skip_serializing_if = "Option::is_none")]
        created_at: Option<Timestamp> = default,
        #[serde(skip_serializing_if = "Option::is_none")]
        updated_at: Option<Timestamp> = default,
        total_sessions: i64 = default,
        total_tokens: i64 = default,
        total_cost_usd: f64 = default,
        total_duration_seconds: f64 = default,
        agents: BTreeMap<String, AgentProfile> = default,
        events: Vec<AgentEvent> = default,
        sessions: Vec<SessionSummary> = default,
    }
}

impl Default for DashboardState {
    fn default() -> DashboardState {
        DashboardState::new("")
    }
}

impl DashboardState {
    /// An empty state for a new project, with no timestamps yet.
    pub fn new(project_name: &str) -> DashboardState {
        DashboardState {
            version: FORMAT_VERSION,
            project_name: project_name.to_owned(),
            created_at: None,
            updated_at: None,
            total_sessions: 0,
            total_tokens: 0,
            total_cost_usd: 0.0,
            total_duration_seconds: 0.0,
            agents: BTreeMap::new(),
            events: Vec::new(),
            sessions: Vec::new(),
            unknown: Default::default(),
        }
    }

    /// Parses and validates a file's bytes.
    ///
    /// Fails with [`ValidationError::Malformed`] (with the path where parsing stopped) when the
    /// bytes are not a dashboard document, and with [`ValidationError::Invalid`] listing every
    /// violation when the document states something impossible.
    pub fn from_json(bytes: &[u8], limits: &Limits) -> Result<DashboardState, ValidationError> {
        let state = DashboardState::from_json_unvalidated(bytes)?;
        state.validate(limits)?;
        Ok(state)
    }

    /// Parses a file's bytes without checking the rules, for tools that report every
    /// violation ([`DashboardState::validate`]) rather than stopping at the first.
    ///
    /// A profile without an `agent_name` takes its key in `agents`, as older files omit it.
    pub fn from_json_unvalidated(bytes: &[u8]) -> Result<DashboardState, ValidationError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let mut state: DashboardState = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|err| ValidationError::Malformed {
                path: err.path().to_string(),
                source: err.into_inner(),
            })?;
        deserializer
            .end()
            .map_err(|source| ValidationError::Malformed { path: ".".to_owned(), source })?;
        for (name, profile) in &mut state.agents {
            if profile.agent_name.is_empty() {
                profile.agent_name.clone_from(name);
            }
        }
        Ok(state)
    }

    /// The `version` of a document, read without parsing the rest, so that a file from a
    /// newer tool is recognised even when this version cannot parse it. `None` when the bytes
    /// are not a JSON object with an integer `version` (a missing `version` means 1).
    pub fn peek_version(bytes: &[u8]) -> Option<u64> {
        #[derive(serde::Deserialize)]
        struct VersionOnly {
            #[serde(default = "first_version")]
            version: u64,
        }
        fn first_version() -> u64 {
            FORMAT_VERSION
        }
        serde_json::from_slice::<VersionOnly>(bytes).ok().map(|doc| doc.version)
    }

    /// Checks every rule and returns all violations at once, each at its path.
    pub fn validate(&self, limits: &Limits) -> Result<(), ValidationError> {
        validate::standalone(|report| validate::state(report, self, limits))
    }

    /// Compact JSON, the fastest to write and to read back.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain data with string keys into memory cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Indented JSON for people and diffs.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Whether the file was written by a newer major format version, which this crate may
    /// read but must not rewrite.
    pub fn is_from_newer_format(&self) -> bool {
        self.version > FORMAT_VERSION
    }

    /// Sets the project name.
    pub fn set_project_name(&mut self, project_name: &str) {
        project_name.clone_into(&mut self.project_name);
    }

    /// Stamps the state as written at `now` (and created then, if it has no creation time).
    pub fn touch(&mut self, now: Timestamp) {
        self.created_at.get_or_insert(now);
        self.updated_at = Some(now);
    }

    /// The format version of the file.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The project the metrics belong to.
    pub fn project_name(&self) -> &str {
        &self.project_name
    }
    /// When the file was first written, if recorded.
    pub fn created_at(&self) -> Option<Timestamp> {
        self.created_at
    }
    /// When the file was last written, if recorded.
    pub fn updated_at(&self) -> Option<Timestamp> {
        self.updated_at
    }
    /// Sessions ever recorded, including evicted ones.
    pub fn total_sessions(&self) -> u64 {
        non_negative(self.total_sessions)
    }
    /// Tokens of every event ever recorded.
    pub fn total_tokens(&self) -> u64 {
        non_negative(self.total_tokens)
    }
    /// Estimated cost of every event ever recorded, in US dollars.
    pub fn total_cost_usd(&self) -> f64 {
        self.total_cost_usd
    }
    /// Wall-clock seconds of every event ever recorded.
    pub fn total_duration_seconds(&self) -> f64 {
        self.total_duration_seconds
    }
    /// One profile per agent, by name.
    pub fn agents(&self) -> &BTreeMap<String, AgentProfile> {
        &self.agents
    }
    /// The latest events, oldest first.
    pub fn events(&self) -> &[AgentEvent] {
        &self.events
    }
    /// The latest sessions, oldest first.
    pub fn sessions(&self) -> &[SessionSummary] {
        &self.sessions
    }
    /// Whether an event with this id is among the stored `events` (evicted ones are not; a
    /// re-recorded id is still caught through its agent's `recent_events`, see
    /// [`DashboardState::record_event`]).
    pub fn contains_event(&self, event_id: &str) -> bool {
        self.events.iter().any(|event| event.event_id() == event_id)
    }
}
