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

/// The longest identifier (agent name, event, session and ticket ids, model), in bytes, that
/// a new event or session may carry; longer ones are refused. Ids are keys people type and
/// tables show, and a few megabytes of name would make every later write carry them.
pub const MAX_IDENTIFIER_BYTES: usize = 256;

/// The longest `error_message` kept, in bytes; a longer one is cut at this size (on a
/// character boundary) and ends with [`truncation_marker`]. At 500 events this bounds the
/// messages of a full store to 4 MiB, so a store of tracebacks stays readable.
pub const MAX_ERROR_MESSAGE_BYTES: usize = 8 * 1024;

/// The longest artifact kept, in bytes; longer ones are cut like an error message.
pub const MAX_ARTIFACT_BYTES: usize = 1024;

/// The most artifacts kept per event; beyond them the list ends with one entry saying how
/// many were left out.
pub const MAX_ARTIFACTS: usize = 32;

/// The text that ends a cut value: `… [truncated: 148213 bytes in all]`.
pub fn truncation_marker(original_len: usize) -> String {
    format!("… [truncated: {original_len} bytes in all]")
}

/// `text` cut to at most `max` bytes (marker included) on a character boundary, ending with
/// [`truncation_marker`]; unchanged when it fits.
pub(crate) fn truncate_text(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let marker = truncation_marker(text.len());
    let keep = max.saturating_sub(marker.len());
    let cut = (0..=keep).rev().find(|idx| text.is_char_boundary(*idx)).unwrap_or(0);
    let mut kept = text[..cut].to_owned();
    kept.push_str(&marker);
    kept
}
