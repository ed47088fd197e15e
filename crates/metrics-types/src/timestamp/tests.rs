//! Unit tests of `Timestamp`: spellings round-trip, offsets, invalid text, arithmetic.

use super::Timestamp;

fn check(input: &str, expect: &str) {
    let parsed: Timestamp = input.parse().unwrap_or_else(|err| panic!("{input}: {err}"));
    assert_eq!(parsed.to_string(), expect);
}

fn check_err(input: &str, expect_reason: &str) {
    let err = input.parse::<Timestamp>().unwrap_err().to_string();
    assert!(err.contains(expect_reason), "{input}: {err}");
}

#[test]
fn round_trips_python_and_zulu_styles() {
    check("2026-02-14T00:00:00Z", "2026-02-14T00:00:00Z");
    check("2026-02-14T17:20:03+00:00", "2026-02-14T17:20:03+00:00");
    check("2026-02-14T17:10:41.500000+00:00", "2026-02-14T17:10:41.500000+00:00");
    check("2026-02-14T17:45:12.482113+00:00", "2026-02-14T17:45:12.482113+00:00");
    check("2026-02-14T17:45:12.5Z", "2026-02-14T17:45:12.5Z");
    check("2026-02-14T19:45:12.123456789+02:00", "2026-02-14T19:45:12.123456789+02:00");
    check("2026-02-14T12:00:00-05:30", "2026-02-14T12:00:00-05:30");
}

#[test]
fn offsets_denote_the_same_instant() {
    let a: Timestamp = "2026-02-14T17:00:00Z".parse().unwrap();
    let b: Timestamp = "2026-02-14T19:00:00+02:00".parse().unwrap();
    assert_eq!(a.instant(), b.instant());
    assert_ne!(a, b, "different spellings are different values");
}

#[test]
fn naive_python_timestamps_are_utc_and_print_back_naive() {
    // Python's `datetime.now().isoformat()` has no offset; the dashboard means UTC by it.
    check("2026-02-14T17:00:00", "2026-02-14T17:00:00");
    check("2026-02-14T17:00:00.123456", "2026-02-14T17:00:00.123456");
    let naive: Timestamp = "2026-02-14T17:00:00".parse().unwrap();
    let utc: Timestamp = "2026-02-14T17:00:00Z".parse().unwrap();
    assert_eq!(naive.instant(), utc.instant());
}

#[test]
fn rejects_text_without_a_time() {
    check_err("2026-02-14", "no time of day");
    check_err("yesterday", "invalid timestamp");
    check_err("", "invalid timestamp");
}

#[test]
fn new_timestamps_look_like_python_isoformat() {
    let instant = jiff::Timestamp::from_microsecond(1_771_091_112_482_113).unwrap();
    assert_eq!(Timestamp::from_instant(instant).to_string(), "2026-02-14T17:45:12.482113+00:00");
    let whole = Timestamp::from_unix_seconds(1_771_091_112).unwrap();
    assert_eq!(whole.to_string(), "2026-02-14T17:45:12+00:00");
}

#[test]
fn plus_seconds_moves_the_instant() {
    let start: Timestamp = "2026-02-14T17:10:00+00:00".parse().unwrap();
    assert_eq!(start.plus_seconds(41.5).unwrap().to_string(), "2026-02-14T17:10:41.500000+00:00");
    assert_eq!(start.plus_seconds(60.0).unwrap().to_string(), "2026-02-14T17:11:00+00:00");
    assert!(start.plus_seconds(f64::NAN).is_none());
}
