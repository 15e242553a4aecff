//! `cmdctl setup`: a table, a bucket and queues for emulators and dev accounts.

use clap::Args;

/// `setup`.
#[derive(Debug, Args)]
pub(crate) struct SetupArgs {
    /// The event-store table.
    #[arg(long, value_name = "NAME", env = "DYNAMO_TABLE_NAME")]
    pub(crate) table: String,
    /// The config bucket.
    #[arg(long, value_name = "NAME", env = "S3_BUCKET_NAME")]
    pub(crate) bucket: String,
    /// The config key prefix, for the printed `export` line.
    #[arg(
        long,
        value_name = "PREFIX",
        env = "S3_CONFIG_PREFIX",
        default_value = ""
    )]
    pub(crate) prefix: String,
    /// The command queue's name; its dead-letter queue is `NAME-dlq`.
    #[arg(long, value_name = "NAME")]
    pub(crate) queue: String,
    /// Make both queues FIFO (`.fifo` is added to their names).
    #[arg(long)]
    pub(crate) fifo: bool,
    /// The queue's visibility timeout: how long a failed message stays
    /// hidden before it comes back.
    #[arg(long, value_name = "SECONDS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=43_200))]
    pub(crate) visibility_timeout: u32,
}
