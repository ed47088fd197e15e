//! `FileVerdict`: what a store file's bytes are to a writer deciding whether to recover. The
//! one classification behind every read of the metrics file, its backup and a file to
//! restore, kept pure so that it can be fuzzed (`fuzz/fuzz_targets/verdict.rs`).
//!
//! ```
//! use metrics_types::FileVerdict;
//!
//! assert!(matches!(FileVerdict::of(br#"{"version": 99}"#), FileVerdict::NewerFormat { found: 99 }));
//! let FileVerdict::Damaged { problem } = FileVerdict::of(br#"{"version": 1, "#) else {
//!     panic!("a cut-off file is damaged");
//! };
//! assert!(problem.starts_with("the file is truncated"), "{problem}");
//! ```

use crate::{DashboardState, FORMAT_VERSION, ValidationError};

/// The longest problem description, in characters: a message quotes what it found, and a
/// damaged file may hold a string of megabytes.
pub const PROBLEM_MAX_CHARS: usize = 300;

/// What one file's bytes are.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per read and consumed at once; boxing adds an allocation to every load"
)]
pub enum FileVerdict {
    /// It loads as the Python dashboard loads it. It may still break rules (`check` reports
    /// those as findings); that is never a reason to set it aside.
    Sound(DashboardState),
    /// Written by a newer version of the format: to be refused, never recovered over.
    NewerFormat {
        /// The version the file says it has (greater than [`FORMAT_VERSION`]).
        found: u64,
    },
    /// Unusable (not JSON, truncated, empty, not what the Python dashboard loads): to be kept
    /// aside and recovered from the backup.
    Damaged {
        /// Why, in one line of at most [`PROBLEM_MAX_CHARS`] characters.
        problem: String,
    },
}

impl FileVerdict {
    /// Classifies `bytes`.
    pub fn of(bytes: &[u8]) -> FileVerdict {
        match DashboardState::load(bytes) {
            Ok(state) => FileVerdict::Sound(state),
            Err(err) => match DashboardState::peek_version(bytes) {
                Some(found) if found > FORMAT_VERSION => FileVerdict::NewerFormat { found },
                _ => FileVerdict::Damaged { problem: describe(&err, bytes) },
            },
        }
    }
}

/// Whether `bytes` look like a metrics store, damaged or not: a JSON object (after
/// whitespace and a UTF-8 byte order mark) naming at least two of the store's top-level keys
/// ([`REQUIRED_KEYS`](crate::REQUIRED_KEYS)) within its first 64 KiB, as a store cut short
/// or with a broken value still does. A writer recovers over such a file (keeping it aside);
/// anything else at the store's path was never a store and is refused.
pub fn looks_like_store(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    if start.is_none_or(|start| head[start] != b'{') {
        return false;
    }
    let named = crate::REQUIRED_KEYS.iter().filter(|key| names_key(head, key)).count();
    named >= 2
}

/// Whether `"key"` occurs in `bytes` followed (after whitespace) by a colon.
fn names_key(bytes: &[u8], key: &str) -> bool {
    let quoted = format!("\"{key}\"");
    let quoted = quoted.as_bytes();
    bytes.windows(quoted.len()).enumerate().any(|(at, window)| {
        window == quoted
            && bytes[at + quoted.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|b| *b == b':')
    })
}

/// A one-line description of why a file is unusable.
fn describe(err: &ValidationError, bytes: &[u8]) -> String {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return "the file is empty".to_owned();
    }
    let problem = match err {
        ValidationError::Malformed { source, .. } if source.is_eof() => {
            format!("the file is truncated: {err}")
        }
        _ => err.to_string(),
    };
    one_short_line(&problem)
}

/// `text` on one line (line breaks shown as `\n`), cut to [`PROBLEM_MAX_CHARS`] characters
/// with an ellipsis.
fn one_short_line(text: &str) -> String {
    let flat = text.replace('\r', "\\r").replace('\n', "\\n");
    if flat.chars().count() <= PROBLEM_MAX_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(PROBLEM_MAX_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::{FileVerdict, PROBLEM_MAX_CHARS, looks_like_store, one_short_line};

    #[test]
    fn damaged_stores_look_like_stores_and_other_files_do_not() {
        for store_like in [
            &br#"{"version": 1, "project_name": "p", "created_at": "#[..],
            b"\xEF\xBB\xBF  {\n  \"events\" : [], \"agents\": {\"a\": nul",
            br#"{"version": 1, "project_name": "p", "total_sessions": -1}"#,
        ] {
            assert!(looks_like_store(store_like), "{}", String::from_utf8_lossy(store_like));
        }
        for foreign in [
            &b"my notes: \"version\": 1, \"events\": []"[..],
            b"",
            b"   ",
            b"\x7fELF\x02\x01\x01\0\0\0",
            br#"{"version": 3, "name": "package.json"}"#,
            br#"{"events": "are named", "but": "once"}"#,
            br#"["version", "project_name"]"#,
            br#"{"note": "\"version\" and \"agents\" as words"}"#,
        ] {
            assert!(!looks_like_store(foreign), "{}", String::from_utf8_lossy(foreign));
        }
    }

    #[test]
    fn a_file_that_loads_is_sound_even_when_it_breaks_rules() {
        let negative =
            br#"{"version": 1, "project_name": "p", "created_at": "2026-02-14T17:10:00+00:00",
            "updated_at": "2026-02-14T17:10:00+00:00", "total_sessions": -3, "total_tokens": 0,
            "total_cost_usd": 0.0, "total_duration_seconds": 0.0, "agents": {}, "events": [],
            "sessions": []}"#;
        assert!(matches!(FileVerdict::of(negative), FileVerdict::Sound(_)));
    }

    #[test]
    fn empty_truncated_and_garbage_files_are_damaged_with_a_reason() {
        for (bytes, starts) in [
            (&b"  \n"[..], "the file is empty"),
            (b"{\"version\": 1, \"events\": [", "the file is truncated"),
            (b"not json", ""),
            (b"{}", ""),
        ] {
            let FileVerdict::Damaged { problem } = FileVerdict::of(bytes) else {
                panic!("{:?} is not damaged", String::from_utf8_lossy(bytes));
            };
            assert!(problem.starts_with(starts) && !problem.is_empty(), "{problem}");
        }
    }

    #[test]
    fn a_problem_is_one_short_line() {
        let long = format!("invalid value {:?}\nat line 2", "x".repeat(10_000));
        let problem = one_short_line(&long);
        assert_eq!(problem.chars().count(), PROBLEM_MAX_CHARS);
        assert!(problem.ends_with('…') && !problem.contains('\n'));
        assert_eq!(one_short_line("a\nb"), "a\\nb");
    }

    #[test]
    fn only_a_newer_version_is_refused() {
        assert_eq!(FileVerdict::of(br#"{"version": 2}"#), FileVerdict::NewerFormat { found: 2 });
        assert!(matches!(FileVerdict::of(br#"{"version": 1}"#), FileVerdict::Damaged { .. }));
    }
}
