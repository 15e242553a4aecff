//! `cmdctl alarms`: an aggregate's alarms; `--now`, the handler's clock
//! (`process`, `exec`, `run` and `alarms`).

use clap::Args;
use handler_core::state_machine::Timestamp;

use super::aggregate_type;
use crate::clock::Now;

/// `--now`: what time the handler reads.
#[derive(Debug, Args)]
pub(crate) struct ClockArgs {
    /// Run as if it were TIME: an RFC 3339 time (2027-01-01T00:00:00Z), or
    /// `+DURATION` from now, an ISO 8601 duration (`+PT16M`, `+P1Y1D`).
    /// Events are recorded at that time (the clock runs on from it), the
    /// alarms they set are due from it, and the alarms due by then fire
    /// [default: the system clock].
    #[arg(long, value_name = "TIME|+DURATION", value_parser = Now::parse)]
    pub(crate) now: Option<Now>,
}

/// `alarms`.
#[derive(Debug, Args)]
pub(crate) struct AlarmsArgs {
    /// The aggregate type (e.g. `payment`).
    #[arg(value_name = "TYPE", value_parser = aggregate_type)]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
    #[command(flatten)]
    pub(crate) clock: ClockArgs,
}

impl ClockArgs {
    /// The clock `--now` asks for: the system clock moved to it.
    pub(crate) fn clock(&self) -> crate::clock::SharedClock {
        crate::clock::shared(self.now.as_ref())
    }

    /// Now, by that clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock().now()
    }
}
