//! `cmdctl worker`: poll a queue like the event source mapping.

use clap::Args;

/// `worker`.
#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// The queue to poll.
    #[arg(long, value_name = "URL", env = "CMDCTL_QUEUE_URL")]
    pub(crate) queue_url: String,
    /// Stop when a receive finds no message, instead of at ctrl-c.
    #[arg(long)]
    pub(crate) until_empty: bool,
    /// Long-poll wait of each receive, 0 to 20 [default: 1 with
    /// --until-empty, else 20].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..=20))]
    pub(crate) wait_seconds: Option<i32>,
    /// Send permanent rejections to this dead-letter queue at once (with the
    /// reason as message attributes) instead of retrying them until the
    /// redrive policy moves them.
    #[arg(long, value_name = "DLQ_URL", env = "REJECT_TO_DLQ_URL")]
    pub(crate) reject_to_dlq: Option<String>,
}
