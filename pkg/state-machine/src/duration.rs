//! Time as alarms read it: ISO 8601 durations (`after`, `--now +PT16M`),
//! RFC 3339 times (`at`), due times rounded up to the whole second, and the
//! 10-year bound. Never panics on any input; errors never quote it.

use std::fmt;
use std::str::FromStr;

use jiff::fmt::temporal::SpanParser;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// The furthest an alarm may be due from the time it is set: 10 years.
pub const MAX_ALARM_YEARS: i16 = 10;

static PARSER: SpanParser = SpanParser::new();

/// A non-negative ISO 8601 duration (`PT15M`, `P1D`, `P1Y2M`, `P2W`,
/// `PT1.5S`), added to a time in UTC's calendar.
#[derive(Debug, Clone, Copy)]
pub struct IsoDuration(Span);

/// Field by field: `PT60M` is not `PT1H`.
impl PartialEq for IsoDuration {
    fn eq(&self, other: &Self) -> bool {
        self.0.fieldwise() == other.0.fieldwise()
    }
}

/// Why a duration is refused. The text never quotes the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not an ISO 8601 duration (or out of range).
    #[error("is not an ISO 8601 duration (e.g. `PT15M`, `P1D`)")]
    Syntax,
    /// A negative duration.
    #[error("must not be negative")]
    Negative,
    /// Longer than the 10-year bound.
    #[error("is longer than the {MAX_ALARM_YEARS}-year bound (`P10Y`)")]
    TooLong,
}

impl FromStr for IsoDuration {
    type Err = DurationError;

    /// Parses an ISO 8601 duration of at most `P10Y` (measured from
    /// 2001-01-01, so that the bound does not depend on when it is read).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        // The Temporal parser also reads a leading sign; the ISO text
        // always starts with `P`.
        if !text.starts_with(['P', 'p']) {
            return Err(DurationError::Syntax);
        }
        let span = PARSER.parse_span(text).map_err(|_| DurationError::Syntax)?;
        if span.is_negative() {
            return Err(DurationError::Negative);
        }
        let duration = IsoDuration(span);
        let reference = Timestamp::from_second(978_307_200).map_err(|_| DurationError::Syntax)?;
        let bound = Span::new().years(MAX_ALARM_YEARS);
        match (duration.after(reference), add(reference, bound)) {
            (Some(end), Some(limit)) if end <= limit => Ok(duration),
            _ => Err(DurationError::TooLong),
        }
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl IsoDuration {
    /// The time this long after `from`, in UTC's calendar (`P1M` from
    /// January 31 is the last day of February); `None` past the range of
    /// times.
    pub fn after(&self, from: Timestamp) -> Option<Timestamp> {
        add(from, self.0)
    }

    /// True for a duration of no time at all (`PT0S`, `P0D`).
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// One year: the default of `expiry.after`.
    pub fn one_year() -> Self {
        IsoDuration(Span::new().years(1))
    }
}

fn add(from: Timestamp, span: Span) -> Option<Timestamp> {
    from.to_zoned(TimeZone::UTC)
        .checked_add(span)
        .ok()
        .map(|z| z.timestamp())
}

/// `time` rounded up to the whole second.
pub(crate) fn ceil_second(time: Timestamp) -> Option<Timestamp> {
    let seconds = time.as_second();
    match time.subsec_nanosecond() {
        0 => Some(time),
        n if n > 0 => Timestamp::from_second(seconds.checked_add(1)?).ok(),
        _ => Timestamp::from_second(seconds).ok(),
    }
}

/// True when `due` is at most 10 years after `now`.
pub(crate) fn within_bound(now: Timestamp, due: Timestamp) -> bool {
    add(now, Span::new().years(MAX_ALARM_YEARS)).is_some_and(|limit| due <= limit)
}

/// An RFC 3339 time with an offset (`2030-01-02T03:04:05Z`,
/// `...+02:00`), as UTC; `None` when the text is not one.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn durations_parse_and_add_in_the_utc_calendar() {
        let d: IsoDuration = "PT15M".parse().unwrap();
        assert_eq!(
            d.after(at("2030-01-01T00:00:00Z")),
            Some(at("2030-01-01T00:15:00Z"))
        );
        let d: IsoDuration = "P1M".parse().unwrap();
        assert_eq!(
            d.after(at("2030-01-31T12:00:00Z")),
            Some(at("2030-02-28T12:00:00Z"))
        );
        assert!("P10Y".parse::<IsoDuration>().is_ok());
        assert!("P0D".parse::<IsoDuration>().is_ok());
        assert!("P2W".parse::<IsoDuration>().is_ok());
        let half: IsoDuration = "PT0.5S".parse().unwrap();
        assert_eq!(
            half.after(at("2030-01-01T00:00:00Z")),
            Some(at("2030-01-01T00:00:00.5Z"))
        );
    }

    #[test]
    fn bad_durations_are_refused_without_quoting() {
        for (text, why) in [
            ("15m", DurationError::Syntax),
            ("", DurationError::Syntax),
            ("P", DurationError::Syntax),
            ("PT", DurationError::Syntax),
            ("-PT1M", DurationError::Syntax),
            ("P-1D", DurationError::Syntax),
            ("P10Y1D", DurationError::TooLong),
            ("P3660D", DurationError::TooLong),
            ("P99999999Y", DurationError::Syntax),
        ] {
            assert_eq!(text.parse::<IsoDuration>(), Err(why), "{text}");
        }
    }

    #[test]
    fn due_times_round_up_to_the_second() {
        assert_eq!(
            ceil_second(at("2030-01-01T00:00:00.001Z")),
            Some(at("2030-01-01T00:00:01Z"))
        );
        assert_eq!(
            ceil_second(at("2030-01-01T00:00:00Z")),
            Some(at("2030-01-01T00:00:00Z"))
        );
        assert_eq!(
            ceil_second(at("1969-12-31T23:59:59.5Z")),
            Some(at("1970-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn the_bound_is_ten_calendar_years() {
        let now = at("2030-01-01T00:00:00Z");
        assert!(within_bound(now, at("2040-01-01T00:00:00Z")));
        assert!(!within_bound(now, at("2040-01-01T00:00:01Z")));
        assert!(within_bound(now, at("2000-01-01T00:00:00Z")));
        assert_eq!(parse_time("2030-01-01T02:00:00+02:00"), Some(now));
        assert_eq!(parse_time("2030-01-01T00:00:00"), None);
        assert_eq!(parse_time("tomorrow"), None);
    }
}
