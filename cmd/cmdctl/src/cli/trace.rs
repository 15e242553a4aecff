//! `cmdctl trace`: one correlation across aggregates.

use clap::Args;

/// `trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// The correlation id: a root command's id, or the `correlationId` its
    /// metadata gave.
    #[arg(value_name = "CORRELATION_ID")]
    pub(crate) correlation_id: String,
    /// Show at most this many events.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: u64,
}
