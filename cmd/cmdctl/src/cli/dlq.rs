//! `cmdctl dlq ...`: the dead-letter queue verbs.

use clap::{Args, Subcommand};

/// `dlq`.
#[derive(Debug, Args)]
pub(crate) struct DlqArgs {
    #[command(subcommand)]
    pub(crate) verb: DlqVerb,
}

/// Which queues a `dlq` verb works on.
#[derive(Debug, Args)]
pub(crate) struct DlqTarget {
    /// The source queue (whose redrive policy names the DLQ when --dlq-url
    /// is not given; where `redrive` sends messages back).
    #[arg(long, value_name = "URL", env = "CMDCTL_QUEUE_URL")]
    pub(crate) queue_url: Option<String>,
    /// The dead-letter queue [default: the one named by the redrive policy
    /// of --queue-url].
    #[arg(long, value_name = "URL", env = "CMDCTL_DLQ_URL")]
    pub(crate) dlq_url: Option<String>,
}

/// `dlq` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum DlqVerb {
    /// List the DLQ's messages without consuming them, with the reason each
    /// failed.
    ///
    /// Columns: message id, aggregate, command, receives (SQS's
    /// ApproximateReceiveCount, which counts every receive, listings
    /// included), failures recorded, first and last failure time, and the
    /// failure's code and reason as the handler recorded them. Messages are
    /// received with a short visibility timeout and made visible again at
    /// once. On a FIFO DLQ a listing sees at most 10 messages of each
    /// message group.
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl dlq list --queue-url $CMDCTL_QUEUE_URL\n  \
         cmdctl dlq list --dlq-url http://127.0.0.1:5000/123456789012/commands-dlq --json | jq '.[].reason'"
    ))]
    List(ListDlqArgs),
    /// Show one DLQ message: its body, attributes and failure record.
    ///
    /// MESSAGE_ID is the id `dlq list` shows, or the original message id (on
    /// the source queue) of a message the handler rejected to the DLQ at
    /// once. Exits 1 when no such message is in the DLQ.
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl dlq show 2f7c0f7e-8d5c-4f2e-9a51-0c0d9a3b1e11\n  \
         cmdctl dlq show 2f7c0f7e-8d5c-4f2e-9a51-0c0d9a3b1e11 --json | jq .failure"
    ))]
    Show(ShowArgs),
    /// Put DLQ messages back on the source queue, losing none.
    ///
    /// With --all, SQS's own message move task is used where the service
    /// has it (not on emulators such as moto; --no-move-task skips it), and
    /// only when a listing of the DLQ finds a commandId in every body: a
    /// moved message gets a new message id, which would become the key of a
    /// body without one.
    /// Otherwise cmdctl sends each message to the source queue and deletes
    /// it from the DLQ only once SQS accepted the copy, never the other way
    /// round: interrupted halfway, a message is in both queues, and the
    /// handler applies it once, because its commandId is the idempotency
    /// key (a body without a commandId is given its original message id as
    /// one, so this holds for it too). Rejection attributes are dropped; on
    /// FIFO the message group is kept (or is the aggregate) and the
    /// deduplication id is `redrive-{DLQ message id}`. Fix the cause first
    /// (a config, a missing earlier command), or the messages fail again.
    /// Refuses a queue that is no queue's dead-letter queue.
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl dlq redrive --all\n  \
         cmdctl dlq redrive 2f7c0f7e-8d5c-4f2e-9a51-0c0d9a3b1e11 9b1d0c55-0f7e-4a7b-8e5e-3f2a9d1c7b20\n  \
         cmdctl dlq redrive --all --no-move-task --json",
        "  0  every message asked for was moved\n  \
         1  some were not: not found, refused by SQS, or in both queues (each is reported)\n  \
         2  invalid input (a queue that is no DLQ), or a queue that cannot be reached (nothing was moved)"
    ))]
    Redrive(RedriveArgs),
    /// Delete every message of the DLQ, for good (PurgeQueue).
    ///
    /// Asks for the DLQ's name on a terminal; refuses without --yes when
    /// stdin is not a terminal. Refuses a queue that is no queue's
    /// dead-letter queue (ListDeadLetterSourceQueues names none), such as
    /// the command queue itself given by mistake.
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl dlq purge\n  \
         cmdctl dlq purge --dlq-url http://127.0.0.1:5000/123456789012/commands-dlq --yes",
        "  0  purged\n  \
         1  not confirmed: nothing was purged\n  \
         2  invalid input (no --yes without a terminal, a queue that is no DLQ), or a queue that cannot be reached"
    ))]
    Purge(PurgeArgs),
}

/// `dlq list`.
#[derive(Debug, Args)]
pub(crate) struct ListDlqArgs {
    #[command(flatten)]
    pub(crate) target: DlqTarget,
    /// List at most this many messages.
    #[arg(long, value_name = "N")]
    pub(crate) limit: Option<usize>,
}

/// `dlq show`.
#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The message's id in the DLQ, or its original id.
    #[arg(value_name = "MESSAGE_ID")]
    pub(crate) message_id: String,
    #[command(flatten)]
    pub(crate) target: DlqTarget,
}

/// `dlq redrive`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["all", "message_ids"])))]
pub(crate) struct RedriveArgs {
    /// The messages to move, by DLQ or original message id.
    #[arg(value_name = "MESSAGE_ID")]
    pub(crate) message_ids: Vec<String>,
    /// Move every message.
    #[arg(long, conflicts_with = "message_ids")]
    pub(crate) all: bool,
    /// With --all, do not try SQS's message move task: send then delete
    /// here.
    #[arg(long)]
    pub(crate) no_move_task: bool,
    #[command(flatten)]
    pub(crate) target: DlqTarget,
}

/// `dlq purge`.
#[derive(Debug, Args)]
pub(crate) struct PurgeArgs {
    /// Do not ask: purge.
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    #[command(flatten)]
    pub(crate) target: DlqTarget,
}
