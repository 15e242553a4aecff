//! `cmdctl list` and `cmdctl replay`: what the store holds, across
//! aggregates and across an aggregate's history.

use clap::Args;

/// `list`.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The aggregate type (e.g. `order`).
    #[arg(value_name = "TYPE", value_parser = super::aggregate_type)]
    pub(crate) aggregate_type: String,
    /// Start after this aggregate id.
    #[arg(long, value_name = "ID")]
    pub(crate) after: Option<String>,
    /// List at most this many.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
}

/// `replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The aggregate type (e.g. `order`).
    #[arg(value_name = "TYPE", value_parser = super::aggregate_type)]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
    /// Show the values of the data keys that differ (they may be personal
    /// data; by default only the keys are named).
    #[arg(long)]
    pub(crate) show_values: bool,
}
