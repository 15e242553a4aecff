//! The handler's clock: what "now" is for `recordedAt` and for the alarms a
//! command sets. The system clock in production; shifted (`cmdctl --now`)
//! or fixed in tests, so that time can be moved without waiting.

use std::fmt;

use state_machine::{SignedDuration, Timestamp};

/// Where the handler reads the time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// The system clock moved by a fixed, signed offset: time still passes, from
/// a shifted start.
#[derive(Debug, Clone, Copy)]
pub struct ShiftedClock {
    offset: SignedDuration,
}

impl ShiftedClock {
    /// The system clock plus `offset` (negative: in the past).
    pub fn by(offset: SignedDuration) -> Self {
        Self { offset }
    }

    /// A clock that reads `at` now and runs on from there.
    pub fn to(at: Timestamp) -> Self {
        Self {
            offset: at.duration_since(Timestamp::now()),
        }
    }

    /// The offset from the system clock.
    pub fn offset(&self) -> SignedDuration {
        self.offset
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
            .saturating_add(self.offset)
            .unwrap_or(Timestamp::MAX)
    }
}

/// A clock that always reads the same time.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// `at` as the RFC 3339 UTC text stored in `recordedAt` (milliseconds, `Z`).
pub fn rfc3339_millis(at: Timestamp) -> String {
    format!("{at:.3}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_read_what_they_are_set_to() {
        let at: Timestamp = "2030-05-06T07:08:09Z".parse().unwrap();
        assert_eq!(FixedClock(at).now(), at);
        let shifted = ShiftedClock::by(SignedDuration::from_hours(24));
        let ahead = shifted.now().duration_since(SystemClock.now());
        assert!(ahead > SignedDuration::from_hours(23), "{ahead:?}");
        let moved = ShiftedClock::to(at).now();
        assert!(moved >= at && moved.duration_since(at) < SignedDuration::from_hours(1));
    }

    #[test]
    fn recorded_at_has_milliseconds_and_z() {
        let at: Timestamp = "2030-05-06T07:08:09.5Z".parse().unwrap();
        assert_eq!(rfc3339_millis(at), "2030-05-06T07:08:09.500Z");
        let whole: Timestamp = "2030-05-06T07:08:09Z".parse().unwrap();
        assert_eq!(rfc3339_millis(whole), "2030-05-06T07:08:09.000Z");
    }
}
