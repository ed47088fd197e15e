//! `Timestamp`: an RFC 3339 instant that prints back in the style it was read.

use std::fmt;

use jiff::fmt::temporal::{DateTimePrinter, Pieces, PiecesOffset};
use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant read from or written to the file as RFC 3339 text.
///
/// The instant is what the program reasons about; the style (`Z` or a numeric offset such as
/// `+00:00`, and how many fractional-second digits) is remembered so that a timestamp written
/// by the Python dashboard, such as `2026-02-14T17:10:41.500000+00:00`, is written back byte
/// for byte.
///
/// Two timestamps are equal when both the instant and the style are equal; compare
/// [`Timestamp::instant`] to compare instants only.
///
/// ```
/// use metrics_types::Timestamp;
///
/// let ts: Timestamp = "2026-02-14T17:10:41.500000+00:00".parse().unwrap();
/// assert_eq!(ts.to_string(), "2026-02-14T17:10:41.500000+00:00");
/// let z: Timestamp = "2026-02-14T17:10:41.5Z".parse().unwrap();
/// assert_eq!(ts.instant(), z.instant());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    instant: jiff::Timestamp,
    style: Style,
}

/// How a timestamp was spelled, so it can be spelled the same way again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Style {
    offset: OffsetStyle,
    fraction_digits: u8,
}

/// How the offset was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum OffsetStyle {
    /// The UTC designator `Z`.
    Zulu,
    /// A numeric offset, in seconds.
    Numeric(i32),
    /// No offset at all, as Python's `datetime.now().isoformat()` writes: read as UTC.
    Naive,
}

/// Why a text is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {text:?}: {reason} (expected RFC 3339, e.g. 2026-02-14T17:10:00+00:00)")]
pub struct TimestampError {
    text: String,
    reason: String,
}

impl Timestamp {
    /// The current time, written as the Python dashboard writes it (`+00:00`, microseconds).
    pub fn now() -> Timestamp {
        Timestamp::from_instant(jiff::Timestamp::now())
    }

    /// An instant, written with a `+00:00` offset and microsecond precision like Python's
    /// `datetime.isoformat()`. Nanoseconds beyond microseconds are truncated.
    pub fn from_instant(instant: jiff::Timestamp) -> Timestamp {
        let micros = instant.as_microsecond();
        let instant = jiff::Timestamp::from_microsecond(micros).unwrap_or(instant);
        let fraction_digits = if micros.rem_euclid(1_000_000) == 0 { 0 } else { 6 };
        Timestamp { instant, style: Style { offset: OffsetStyle::Numeric(0), fraction_digits } }
    }

    /// A timestamp `seconds` after the Unix epoch (UTC), e.g. for fixtures.
    pub fn from_unix_seconds(seconds: i64) -> Option<Timestamp> {
        jiff::Timestamp::from_second(seconds).ok().map(Timestamp::from_instant)
    }

    /// The instant, independent of how it is spelled.
    pub fn instant(&self) -> jiff::Timestamp {
        self.instant
    }

    /// This timestamp moved by `seconds`, rounded to the microsecond (the precision of the
    /// Python dashboard), keeping its style; `None` if the result is out of range.
    pub fn plus_seconds(&self, seconds: f64) -> Option<Timestamp> {
        let micros = (seconds * 1e6).round();
        if !micros.is_finite() || micros.abs() > (i64::MAX / 1000) as f64 {
            return None;
        }
        let span = jiff::SignedDuration::from_micros(micros as i64);
        let instant = self.instant.checked_add(span).ok()?;
        let fraction_digits =
            if instant.subsec_nanosecond() == 0 { self.style.fraction_digits } else { 6 };
        Some(Timestamp {
            instant,
            style: Style {
                fraction_digits: fraction_digits.max(self.style.fraction_digits),
                ..self.style
            },
        })
    }
}

impl Timestamp {
    /// A time filter as every front end takes it (`--since`, `--until`, `?since=`,
    /// `?until=`): an RFC 3339 time (`2026-12-03T10:00:00Z`), a date (`2026-12-03`: its
    /// midnight, UTC), or an age before `now` (`90s`, `30m`, `1h`, `7d`, `2w`, or any span
    /// jiff reads, such as `1h 30m`). One parser, so the CLI and the API accept the same.
    pub fn parse_when(text: &str, now: Timestamp) -> Result<Timestamp, TimestampError> {
        let text = text.trim();
        if let Ok(at) = text.parse::<Timestamp>() {
            return Ok(at);
        }
        let refuse = || TimestampError {
            text: text.to_owned(),
            reason: "neither a date (2026-12-03) nor an age (90s, 1h, 7d)".to_owned(),
        };
        if let Ok(date) = text.parse::<jiff::civil::Date>() {
            let midnight = date.to_zoned(TimeZone::UTC).map_err(|_| refuse())?;
            return Ok(Timestamp::from_instant(midnight.timestamp()));
        }
        // jiff spells weeks `w` and days `d` already; a bare number is not an age.
        let span: jiff::Span = text.parse().map_err(|_| refuse())?;
        let zoned = now.instant().to_zoned(TimeZone::UTC);
        let then = zoned.checked_sub(span.abs()).map_err(|_| refuse())?;
        Ok(Timestamp::from_instant(then.timestamp()))
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(text: &str) -> Result<Timestamp, TimestampError> {
        let fail = |reason: String| TimestampError { text: text.to_owned(), reason };
        let pieces = Pieces::parse(text).map_err(|err| fail(err.to_string()))?;
        let offset = match pieces.offset() {
            Some(PiecesOffset::Zulu) => OffsetStyle::Zulu,
            Some(PiecesOffset::Numeric(numeric)) => {
                OffsetStyle::Numeric(numeric.offset().seconds())
            }
            // Python's naive `isoformat()`; the dashboard means UTC by it.
            None => OffsetStyle::Naive,
            Some(_) => return Err(fail("it has an offset RFC 3339 does not allow".to_owned())),
        };
        if pieces.time_zone_annotation().is_some() {
            return Err(fail("time zone annotations are not RFC 3339".to_owned()));
        }
        let time = pieces.time().ok_or_else(|| fail("it has no time of day".to_owned()))?;
        let offset_seconds = match offset {
            OffsetStyle::Numeric(seconds) => seconds,
            OffsetStyle::Zulu | OffsetStyle::Naive => 0,
        };
        let fixed = Offset::from_seconds(offset_seconds).map_err(|err| fail(err.to_string()))?;
        let instant = pieces
            .date()
            .to_datetime(time)
            .to_zoned(TimeZone::fixed(fixed))
            .map_err(|err| fail(err.to_string()))?
            .timestamp();
        Ok(Timestamp { instant, style: Style { offset, fraction_digits: fraction_digits(text) } })
    }
}

/// Counts the digits after the decimal separator of the seconds, the only fraction RFC 3339 has.
fn fraction_digits(text: &str) -> u8 {
    let Some(separator) = text.find(['.', ',']) else { return 0 };
    let digits = text[separator + 1..].bytes().take_while(u8::is_ascii_digit).count();
    digits.min(9) as u8
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let printer = DateTimePrinter::new().precision(Some(self.style.fraction_digits));
        let text = match self.style.offset {
            OffsetStyle::Zulu => printer.timestamp_to_string(&self.instant),
            OffsetStyle::Numeric(seconds) => {
                let offset = Offset::from_seconds(seconds).unwrap_or(Offset::UTC);
                printer.timestamp_with_offset_to_string(&self.instant, offset)
            }
            OffsetStyle::Naive => {
                printer.datetime_to_string(&TimeZone::UTC.to_datetime(self.instant))
            }
        };
        f.write_str(&text)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Default for Timestamp {
    /// The Unix epoch, standing in for a missing or unreadable timestamp in a file (validation
    /// reports the field; the file keeps what it had).
    fn default() -> Timestamp {
        Timestamp {
            instant: jiff::Timestamp::UNIX_EPOCH,
            style: Style { offset: OffsetStyle::Numeric(0), fraction_digits: 0 },
        }
    }
}

lenient_via_serde!(Timestamp, Option<Timestamp>);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = crate::wire::Key::deserialize(deserializer)?;
        text.0.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
