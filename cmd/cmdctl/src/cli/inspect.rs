//! `cmdctl state` and `events`: one aggregate.

use clap::Args;

use super::aggregate_type;

/// `state` and `events`.
#[derive(Debug, Args)]
pub(crate) struct AggregateArgs {
    /// The aggregate type (e.g. `order`).
    #[arg(value_name = "TYPE", value_parser = aggregate_type)]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
}
