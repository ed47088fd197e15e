//! `Limits`: how many events and sessions a state keeps before evicting the oldest.

/// How many events and sessions a state holds; beyond them the oldest are evicted (FIFO).
///
/// Validation rejects a state holding more than these, and recording evicts down to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most events kept in `events`.
    pub max_events: usize,
    /// Most sessions kept in `sessions`.
    pub max_sessions: usize,
}

impl Limits {
    /// The limits of the Python dashboard: 500 events, 50 sessions.
    pub const DEFAULT: Limits = Limits { max_events: 500, max_sessions: 50 };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// How many event ids a profile keeps in `recent_events`.
pub const RECENT_EVENTS_LIMIT: usize = 20;
