//! What a field's kind means: for each kind of event field, how the value a caller built
//! becomes the value stored ("carry"), how the stored value is read ("read"), and what
//! loading checks of it ("rule"). The declaration in `event.rs` names a field's kind; the
//! macro in `declare.rs` calls these functions for it, so a new field of a known kind needs
//! no code of its own.
//!
//! | kind | stored | built and sent | carried | read | checked on load |
//! |---|---|---|---|---|---|
//! | `label` | `String` | `String`, default empty | refused past [`crate::MAX_IDENTIFIER_BYTES`] | `&str` | nothing |
//! | `free_text` | `String` | `String`, default empty | cut at [`crate::MAX_ERROR_MESSAGE_BYTES`] | `&str` | nothing |
//! | `text_list` | `Vec<String>` | `Vec<String>`, default empty | at most [`crate::MAX_ARTIFACTS`] of at most [`crate::MAX_ARTIFACT_BYTES`] | `&[String]` | nothing |
//! | `count` | `Option<i64>` (older files may lack it) | `u64`, default 0 | refused past `i64::MAX` | `Option<u64>` | not negative |
//! | `amount` | `f64` | `f64`, default 0 | as given | `f64` | finite, not negative |

use crate::Violation;
use crate::validate::{Prefix, Report};

/// `label`: an identifier-like text, refused (not cut) when longer than an identifier may be.
pub(crate) fn carry_label(field: &str, value: String, early: &mut Vec<Violation>) -> String {
    if value.len() > crate::MAX_IDENTIFIER_BYTES {
        early.push(Violation {
            path: field.to_owned(),
            message: format!(
                "is {} bytes long, more than the limit of {} for an identifier",
                value.len(),
                crate::MAX_IDENTIFIER_BYTES
            ),
        });
    }
    value
}

/// `free_text`: cut to [`crate::MAX_ERROR_MESSAGE_BYTES`] and marked, so the event is still
/// recorded.
pub(crate) fn carry_free_text(_field: &str, value: String, _early: &mut Vec<Violation>) -> String {
    crate::limits::truncate_text(value, crate::MAX_ERROR_MESSAGE_BYTES)
}

/// `text_list`: each entry cut to [`crate::MAX_ARTIFACT_BYTES`], at most
/// [`crate::MAX_ARTIFACTS`] of them, the last saying how many more there were
/// (`… [5 more artifacts left out]`).
pub(crate) fn carry_text_list(
    field: &str,
    mut values: Vec<String>,
    _early: &mut Vec<Violation>,
) -> Vec<String> {
    if values.len() > crate::MAX_ARTIFACTS {
        let left_out = values.len() - (crate::MAX_ARTIFACTS - 1);
        values.truncate(crate::MAX_ARTIFACTS - 1);
        values.push(format!("… [{left_out} more {field} left out]"));
    }
    values
        .into_iter()
        .map(|value| crate::limits::truncate_text(value, crate::MAX_ARTIFACT_BYTES))
        .collect()
}

/// `count`: stored as the file's signed integer; a count the file cannot hold is refused.
pub(crate) fn carry_count(field: &str, value: u64, early: &mut Vec<Violation>) -> Option<i64> {
    Some(i64::try_from(value).unwrap_or_else(|_| {
        early.push(too_large(field, value));
        0
    }))
}

/// `amount`: stored as given; validation checks it.
pub(crate) fn carry_amount(_field: &str, value: f64, _early: &mut Vec<Violation>) -> f64 {
    value
}

/// Reads a `label` or `free_text`.
pub(crate) fn read_text(value: &str) -> &str {
    value
}

/// Reads a `text_list`.
pub(crate) fn read_text_list(values: &[String]) -> &[String] {
    values
}

/// Reads a `count`: `None` when the file does not record it.
pub(crate) fn read_count(value: &Option<i64>) -> Option<u64> {
    value.map(non_negative)
}

/// Reads an `amount`.
pub(crate) fn read_amount(value: &f64) -> f64 {
    *value
}

/// The rule of kinds whose every value is acceptable once read.
pub(crate) fn no_rule<T: ?Sized>(_report: &mut Report, _prefix: Prefix<'_>, _field: &str, _: &T) {}

/// A `count` the file records must not be negative.
pub(crate) fn count_rule(
    report: &mut Report,
    prefix: Prefix<'_>,
    field: &str,
    value: &Option<i64>,
) {
    if let Some(count) = *value {
        report.count(prefix, field, count);
    }
}

/// An `amount` must be finite and not negative.
pub(crate) fn amount_rule(report: &mut Report, prefix: Prefix<'_>, field: &str, value: &f64) {
    report.amount(prefix, field, *value);
}

/// The violation of a count larger than the file can hold.
pub(crate) fn too_large(field: &str, value: u64) -> Violation {
    Violation {
        path: field.to_owned(),
        message: format!(
            "is {value}, larger than the largest count the file can hold ({})",
            i64::MAX
        ),
    }
}

/// Reads a stored count; negative values exist only in states that failed validation.
pub(crate) fn non_negative(count: i64) -> u64 {
    u64::try_from(count).unwrap_or(0)
}
