//! The current time (fixed by `AGENT_METRICS_NOW` for reproducible output) and "5m ago".

use metrics_types::Timestamp;

/// Set to an RFC 3339 time to fix "now" (tests and reproducible reports use it).
pub(crate) const NOW_ENV: &str = "AGENT_METRICS_NOW";

pub(crate) fn now() -> Timestamp {
    std::env::var(NOW_ENV).ok().and_then(|text| text.parse().ok()).unwrap_or_else(Timestamp::now)
}

/// How long ago `then` was, in the largest whole unit: `just now`, `42s ago`, `5m ago`,
/// `3h ago`, `2d ago`; `in the future` for clocks that disagree.
pub(crate) fn ago(then: Timestamp, now: Timestamp) -> String {
    let seconds = now.instant().as_second() - then.instant().as_second();
    match seconds {
        ..0 => "in the future".to_owned(),
        0..5 => "just now".to_owned(),
        5..60 => format!("{seconds}s ago"),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..86_400 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

/// Seconds as `41.5s`, `3m 05s`, `2h 10m`.
pub(crate) fn duration(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    if seconds < 60.0 {
        format!("{seconds:.1}s")
    } else if whole < 3600 {
        format!("{}m {:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h {:02}m", whole / 3600, whole % 3600 / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::{ago, duration};

    #[test]
    fn ago_uses_the_largest_whole_unit() {
        let now = metrics_types::Timestamp::from_unix_seconds(1_000_000).unwrap();
        let at = |back: i64| metrics_types::Timestamp::from_unix_seconds(1_000_000 - back).unwrap();
        assert_eq!(ago(at(2), now), "just now");
        assert_eq!(ago(at(42), now), "42s ago");
        assert_eq!(ago(at(300), now), "5m ago");
        assert_eq!(ago(at(3 * 3600 + 5), now), "3h ago");
        assert_eq!(ago(at(2 * 86_400), now), "2d ago");
        assert_eq!(ago(at(-10), now), "in the future");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(41.5), "41.5s");
        assert_eq!(duration(185.0), "3m 05s");
        assert_eq!(duration(7800.0), "2h 10m");
    }
}
