#![doc = include_str!("../README.md")]
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
pub use crate::event::{AgentEvent, EventInput, NewAgentEvent};
pub use crate::input::{SessionInput, event_times};
pub use crate::journal::{
    EntrySummary, Folded, JournalEntry, RefusedEntry, STORAGE_KEY, Storage, StorageMode,
};
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
pub use crate::verdict::{FileVerdict, PROBLEM_MAX_CHARS, looks_like_store};
