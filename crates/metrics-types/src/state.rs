//! `DashboardState`: the whole file, with loading, validation entry points and serialization.

use std::collections::BTreeMap;

use crate::event::non_negative;
use crate::wire::{Lenient, Note};
use crate::{
    AgentEvent, AgentProfile, Limits, SessionSummary, Timestamp, ValidationError, validate,
};

/// The top-level keys the Python dashboard requires; a file without one of them is damaged.
pub const REQUIRED_KEYS: [&str; 11] = [
    "version",
    "project_name",
    "created_at",
    "updated_at",
    "total_sessions",
    "total_tokens",
    "total_cost_usd",
    "total_duration_seconds",
    "agents",
    "events",
    "sessions",
];

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
    /// let json = br#"{"version": 1, "project_name": "demo", "created_at": null,
    ///                 "updated_at": null, "total_sessions": 0, "total_tokens": 0,
    ///                 "total_cost_usd": 0.0, "total_duration_seconds": 0.0, "agents": {},
    ///                 "events": [], "sessions": [], "written_by": "python"}"#;
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
        created_at: Option<Timestamp> = default,
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
            wire: Default::default(),
        }
    }

    /// Loads a file's bytes and checks every rule: [`DashboardState::load`], then
    /// [`DashboardState::validate`]. For tools that accept only a flawless file; a store loads
    /// with [`DashboardState::load`] and reports findings separately.
    pub fn from_json(bytes: &[u8], limits: &Limits) -> Result<DashboardState, ValidationError> {
        let state = DashboardState::load(bytes)?;
        state.validate(limits)?;
        Ok(state)
    }

    /// Loads a file's bytes exactly when the Python dashboard would: the bytes are JSON (and
    /// UTF-8), an object with every key of [`REQUIRED_KEYS`], `agents` an object and `events`
    /// and `sessions` arrays. Anything else is [`ValidationError::Malformed`] or
    /// [`ValidationError::Structure`]: a damaged file.
    ///
    /// Nothing inside the records is required: a missing field takes its default, a `null`
    /// stays `null`, an integral float in a count (`1000.0`) is read as the count, a value of
    /// the wrong type (or a record that is not an object) is kept as found. All of it is
    /// written back exactly as it was read, unless a transition rewrites that record, and
    /// [`DashboardState::validate`] reports what is missing, unreadable or inconsistent.
    ///
    /// A file that parses strictly (every file this crate writes) takes one fast pass; any
    /// other takes a second, lenient pass over the parsed JSON.
    pub fn load(bytes: &[u8]) -> Result<DashboardState, ValidationError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let strict = serde_path_to_error::deserialize::<_, DashboardState>(&mut deserializer)
            .map_err(|err| err.path().to_string())
            .and_then(|state| deserializer.end().map(|()| state).map_err(|_| ".".to_owned()));
        let mut state = match strict {
            Ok(state) => state,
            Err(strict_path) => {
                // Not JSON at all: report it with the path where the strict parse stopped.
                let value: serde_json::Value = serde_json::from_slice(bytes)
                    .map_err(|source| ValidationError::Malformed { path: strict_path, source })?;
                if !value.is_object() {
                    return Err(ValidationError::Structure {
                        message: "the document is not a JSON object".to_owned(),
                    });
                }
                DashboardState::from_value_lenient(value)
            }
        };
        state.check_structure()?;
        for (name, profile) in &mut state.agents {
            if profile.agent_name.is_empty() && profile.wire.opaque().is_none() {
                profile.agent_name.clone_from(name);
            }
        }
        Ok(state)
    }

    /// Parses a file's bytes without checking the rules, for tools that report every
    /// violation ([`DashboardState::validate`]) rather than stopping at the first. The same
    /// as [`DashboardState::load`].
    pub fn from_json_unvalidated(bytes: &[u8]) -> Result<DashboardState, ValidationError> {
        DashboardState::load(bytes)
    }

    /// The Python dashboard's test of a loaded document: every required key present, the
    /// containers of the right JSON type.
    fn check_structure(&self) -> Result<(), ValidationError> {
        let missing: Vec<&str> = REQUIRED_KEYS
            .iter()
            .copied()
            .filter(|key| {
                let idx = DashboardState::FIELD_NAMES.iter().position(|name| name == key);
                idx.is_some_and(|idx| matches!(self.wire.note(idx), Some(Note::Absent)))
            })
            .collect();
        if !missing.is_empty() {
            let message = format!("missing top-level key(s): {}", missing.join(", "));
            return Err(ValidationError::Structure { message });
        }
        let containers = [
            (FieldIndex::agents, "agents", "an object"),
            (FieldIndex::events, "events", "an array"),
            (FieldIndex::sessions, "sessions", "an array"),
        ];
        for (field, name, kind) in containers {
            if let Some(note) = self.wire.note(field as usize) {
                let found = match note {
                    Note::Absent => "missing".to_owned(),
                    Note::Verbatim(value) | Note::Unreadable(value) => json_kind(value).to_owned(),
                };
                let message = format!("{name} must be {kind}, found {found}");
                return Err(ValidationError::Structure { message });
            }
        }
        Ok(())
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

    /// Checks the rules of the root fields, the totals and the profiles only: the part of the state a
    /// transition rewrites (events and sessions are never changed once stored, and new ones
    /// are validated when built). A store compares these before and after a write, so that a
    /// write never introduces a finding.
    pub fn validate_summary(&self) -> Result<(), ValidationError> {
        validate::standalone(|report| validate::summary(report, self))
    }

    /// Compact JSON, the fastest to write and to read back.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect(SERIALIZE_CANNOT_FAIL)
    }

    /// Indented JSON for people and diffs.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect(SERIALIZE_CANNOT_FAIL)
    }

    /// Whether the file was written by a newer major format version, which this crate may
    /// read but must not rewrite.
    pub fn is_from_newer_format(&self) -> bool {
        self.version > FORMAT_VERSION
    }

    /// Sets the project name.
    pub fn set_project_name(&mut self, project_name: &str) {
        project_name.clone_into(&mut self.project_name);
        self.wire.set(FieldIndex::project_name as usize);
    }

    /// Stamps the state as written at `now` (and created then, if it was never written).
    pub fn touch(&mut self, now: Timestamp) {
        // Only a state never written gets a creation time: a file that says `"created_at":
        // null` beside an `updated_at` keeps its null (the write did not create it).
        if self.created_at.is_none() && self.updated_at.is_none() {
            self.created_at = Some(now);
            self.wire.set(FieldIndex::created_at as usize);
        }
        self.updated_at = Some(now);
        self.wire.set(FieldIndex::updated_at as usize);
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

/// Why serialization is infallible: plain data with string keys, written into memory, and
/// every number finite or kept as the JSON value it was read as. Were it ever to fail, a
/// panic is the right answer: an empty or partial document must never reach a durable write.
const SERIALIZE_CANNOT_FAIL: &str =
    "serializing a DashboardState (string keys, in-memory writer) cannot fail";

/// The JSON type of a value, for messages.
pub(crate) fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

impl Lenient for BTreeMap<String, AgentProfile> {
    fn from_value(value: serde_json::Value) -> Result<(Self, bool), serde_json::Value> {
        let serde_json::Value::Object(map) = value else { return Err(value) };
        let profiles = map
            .into_iter()
            .map(|(name, profile)| (name, AgentProfile::from_value_lenient(profile)))
            .collect();
        Ok((profiles, false))
    }
}

impl Lenient for Vec<AgentEvent> {
    fn from_value(value: serde_json::Value) -> Result<(Self, bool), serde_json::Value> {
        let serde_json::Value::Array(items) = value else { return Err(value) };
        Ok((items.into_iter().map(AgentEvent::from_value_lenient).collect(), false))
    }
}

impl Lenient for Vec<SessionSummary> {
    fn from_value(value: serde_json::Value) -> Result<(Self, bool), serde_json::Value> {
        let serde_json::Value::Array(items) = value else { return Err(value) };
        Ok((items.into_iter().map(SessionSummary::from_value_lenient).collect(), false))
    }
}

impl From<FieldIndex> for usize {
    fn from(field: FieldIndex) -> usize {
        field as usize
    }
}
