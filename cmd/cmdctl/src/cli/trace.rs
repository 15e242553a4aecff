//! `cmdctl trace`: one correlation across aggregates.

use clap::Args;

/// `trace`.
#[derive(Debug, Args)]
pub(crate) struct TraceArgs {
    /// The correlation id: a root command's id, or the `correlationId` its
    /// metadata gave.
    #[arg(value_name = "CORRELATION_ID")]
    pub(crate) correlation_id: String,
    /// Follow the flow from its root aggregate (TYPE ID: the one the root
    /// command went to) through each event's reactions, as the configs build
    /// them now: one read of each touched aggregate's history, no scan.
    #[arg(long, num_args = 2, value_names = ["TYPE", "ID"])]
    pub(crate) root: Option<Vec<String>>,
    /// Show at most this many events.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: u64,
}
