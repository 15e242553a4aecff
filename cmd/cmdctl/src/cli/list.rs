//! `cmdctl list`: the aggregates of a type the store holds.

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
