//! `cmdctl resend`: an event type's reactions and alarm orders rebuilt from
//! the store and sent again through the event processor's sinks.

use clap::Args;

/// `resend`.
#[derive(Debug, Args)]
pub(crate) struct ResendArgs {
    /// Every event of this type, from the store (not the stream).
    #[arg(long = "type", value_name = "TYPE", value_parser = super::aggregate_type)]
    pub(crate) aggregate_type: String,
    /// Only the events recorded at or after TIME (RFC 3339, e.g.
    /// 2026-11-30T12:00:00Z).
    #[arg(long, value_name = "TIME")]
    pub(crate) since: Option<String>,
    /// The command queue the reactions and alarm commands go to (the
    /// processor's `COMMAND_QUEUE_URL`).
    #[arg(long, value_name = "URL", env = "COMMAND_QUEUE_URL")]
    pub(crate) queue_url: String,
    /// Events read per page.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) page_size: u64,
}
