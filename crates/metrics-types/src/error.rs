//! `ValidationError` and `Violation`: why a value is not a valid dashboard state.

use std::fmt;

/// Why bytes or a value are not a valid dashboard state (or part of one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The bytes are not JSON, or not JSON of the dashboard's shape (a string where a number
    /// belongs, a missing required field, nesting too deep).
    #[error("not a valid agent-metrics document at {path}: {source}")]
    Malformed {
        /// Where in the document parsing stopped, e.g. `events[3].started_at` (`.` for the root).
        path: String,
        /// The parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The document is JSON but not a dashboard: the rule the Python dashboard applies when it
    /// loads a file (every top-level key present, `agents` an object, `events` and
    /// `sessions` arrays) fails. Such a file is damaged.
    #[error("not an agent-metrics document: {message}")]
    Structure {
        /// What is wrong, in plain words.
        message: String,
    },
    /// Input from a writer (an event or session sent as JSON) that cannot be read or
    /// breaks a rule before it becomes a value: unknown fields, an unknown status, a time
    /// that does not parse.
    #[error("{place}: {message}")]
    Input {
        /// Which input or field, e.g. `line 3` or `status`.
        place: String,
        /// What is wrong, in plain words.
        message: String,
    },
    /// The document parsed but states things that cannot be true; every violation is listed.
    #[error("{} violation{}: {}", .violations.len(), if .violations.len() == 1 { "" } else { "s" }, ViolationList(.violations))]
    Invalid {
        /// Every rule the value breaks, in document order.
        violations: Vec<Violation>,
    },
}

/// One broken rule, at a path into the document such as `agents.coding.failed_invocations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where the rule is broken, in the `events[3].total_tokens` notation.
    pub path: String,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl ValidationError {
    /// The violations, empty for a malformed document.
    pub fn violations(&self) -> &[Violation] {
        match self {
            ValidationError::Malformed { .. }
            | ValidationError::Structure { .. }
            | ValidationError::Input { .. } => &[],
            ValidationError::Invalid { violations } => violations,
        }
    }
}

struct ViolationList<'a>(&'a [Violation]);

impl fmt::Display for ViolationList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (idx, violation) in self.0.iter().enumerate() {
            if idx > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}
