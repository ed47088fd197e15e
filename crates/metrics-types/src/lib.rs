//! The agent-metrics file format: schema, validation and the pure state transitions.
//!
//! A metrics file is one JSON document, a [`DashboardState`]: project totals, one
//! [`AgentProfile`] per agent, the latest [`AgentEvent`]s and the latest [`SessionSummary`]s.
//! The format is the one the Python "Agent Status Dashboard" writes, field for field
//! (see `docs/format.md`), and this crate reads its files faithfully: missing fields take
//! defaults, unknown fields and unknown enum values are kept and written back, and timestamps
//! ([`Timestamp`]) print back in the style they were read.
//!
//! Values are built only through validating constructors ([`AgentEvent::new`],
//! [`SessionSummary::new`], [`DashboardState::from_json`]) and changed only through the
//! transitions in [`DashboardState::record_event`], [`DashboardState::record_events`] and
//! [`DashboardState::record_session`], which append, evict the oldest beyond the [`Limits`]
//! (FIFO; 500 events and 50 sessions by default) and roll up profiles and totals.
//! [`DashboardState::validate`] reports every broken rule at once as a [`Violation`] with a
//! path such as `events[3].total_tokens`.
//!
//! This crate does no I/O: it turns bytes into a state and a state into bytes. Reading files,
//! locking and durable writes belong to `atomic-fs` and `metrics-store`.
//!
//! ```
//! use metrics_types::{AgentEvent, DashboardState, EventStatus, Limits, NewAgentEvent};
//!
//! let mut state = DashboardState::new("demo");
//! let started_at = "2026-02-14T17:10:00+00:00".parse().unwrap();
//! let event = AgentEvent::new(NewAgentEvent {
//!     input_tokens: 1500,
//!     output_tokens: 500,
//!     duration_seconds: 15.0,
//!     ..NewAgentEvent::new("evt-1", "github", EventStatus::Success, started_at)
//! })?;
//! let _ = state.record_event(event, &Limits::DEFAULT);
//!
//! let bytes = state.to_json();
//! let loaded = DashboardState::from_json(&bytes, &Limits::DEFAULT)?;
//! assert_eq!(loaded.agents()["github"].total_tokens(), 2000);
//! assert_eq!(loaded.agents()["github"].strengths(), ["fast_execution"]);
//! # Ok::<(), metrics_types::ValidationError>(())
//! ```
#![warn(missing_docs)]

#[macro_use]
mod wire;

mod error;
mod event;
mod input;
mod journal;
mod level;
mod limits;
mod profile;
mod record;
mod session;
mod state;
mod status;
mod timestamp;
mod validate;
mod verdict;
pub mod view;

pub use crate::error::{ValidationError, Violation};
pub use crate::event::{AgentEvent, NewAgentEvent};
pub use crate::input::{EventInput, SessionInput, event_times};
pub use crate::journal::{Folded, JournalEntry, RefusedEntry, STORAGE_KEY, Storage, StorageMode};
pub use crate::level::Level;
pub use crate::limits::{
    Limits, MAX_ARTIFACT_BYTES, MAX_ARTIFACTS, MAX_ERROR_MESSAGE_BYTES, MAX_IDENTIFIER_BYTES,
    RECENT_EVENTS_LIMIT, truncation_marker,
};
pub use crate::profile::AgentProfile;
pub use crate::record::{ACHIEVEMENTS, BatchOutcome, RecordOutcome, STRENGTHS, WEAKNESSES};
pub use crate::session::{NewSessionSummary, SessionSummary};
pub use crate::state::{DashboardState, FORMAT_VERSION, REQUIRED_KEYS};
pub use crate::status::{EventStatus, SessionStatus, SessionType};
pub use crate::timestamp::{Timestamp, TimestampError};
pub use crate::verdict::{FileVerdict, PROBLEM_MAX_CHARS};
