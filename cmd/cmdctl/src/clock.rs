//! `--now TIME|+DURATION`: the clock the handler reads (`recordedAt`, the
//! alarms a command sets) and the local run fires due alarms by.

use std::sync::Arc;

use handler_core::clock::{Clock, ShiftedClock, SystemClock};
use handler_core::state_machine::{IsoDuration, Timestamp, parse_time};

/// The clock a verb's handler and alarm firing share.
pub(crate) type SharedClock = Arc<dyn Clock>;

/// What `--now` said.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Now {
    /// An RFC 3339 time.
    At(Timestamp),
    /// An ISO 8601 duration from the system clock's now (`+PT16M`), added
    /// as an alarm's `after` is.
    Ahead(IsoDuration),
}

impl Now {
    /// Parses `TIME` (RFC 3339) or `+DURATION` (ISO 8601).
    pub(crate) fn parse(text: &str) -> Result<Now, String> {
        if let Some(duration) = text.strip_prefix('+') {
            return duration
                .parse()
                .map(Now::Ahead)
                .map_err(|e| format!("the duration after `+` {e} (e.g. +PT16M, +P1Y1D)"));
        }
        parse_time(text).map(Now::At).ok_or_else(|| {
            "expected an RFC 3339 time (2027-01-01T00:00:00Z) or +DURATION, an ISO 8601 \
             duration from now (+PT16M, +P1Y1D)"
                .to_owned()
        })
    }

    /// The time it names, read now.
    fn at(&self) -> Timestamp {
        match self {
            Now::At(at) => *at,
            Now::Ahead(duration) => {
                let now = Timestamp::now();
                duration.after(now).unwrap_or(Timestamp::MAX)
            }
        }
    }
}

/// The system clock, or (with `--now`) the system clock moved so that it
/// reads that time now and runs on from there.
pub(crate) fn shared(now: Option<&Now>) -> SharedClock {
    match now {
        None => Arc::new(SystemClock),
        Some(now) => Arc::new(ShiftedClock::to(now.at())),
    }
}
