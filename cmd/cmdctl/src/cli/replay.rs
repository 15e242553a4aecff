//! `cmdctl replay`: an aggregate's events refolded and compared with its
//! stored head.

use clap::Args;

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
