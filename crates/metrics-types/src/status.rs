//! The string enums of the format: event status, session type and session status.

string_enum! {
    /// How an agent invocation ended.
    pub enum EventStatus {
        /// The agent did what it was asked.
        Success => "success",
        /// The agent failed.
        Error => "error",
        /// The agent ran out of time.
        Timeout => "timeout",
        /// The agent could not proceed (waiting on a person or another agent).
        Blocked => "blocked",
    }
}

string_enum! {
    /// Whether a session started a project or continued one.
    pub enum SessionType {
        /// The first session of a project.
        Initializer => "initializer",
        /// A later session.
        Continuation => "continuation",
    }
}

string_enum! {
    /// How a session ended.
    pub enum SessionStatus {
        /// More sessions will follow.
        Continue => "continue",
        /// The session ended in an error.
        Error => "error",
        /// The work is done.
        Complete => "complete",
    }
}

impl EventStatus {
    /// Whether the invocation counts as a success. Unknown statuses count as failures, so that
    /// `successful + failed == total` holds for every event.
    pub fn is_success(&self) -> bool {
        matches!(self, EventStatus::Success)
    }
}
