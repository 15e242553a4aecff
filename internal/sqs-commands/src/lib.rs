//! Putting commands on an SQS queue: the one home of what every sender of
//! commands needs (`cmdctl send`, `send --file`, the DLQ redrive, the
//! Lambda's rejection sink, and the event processor's reactions).
//!
//! - [`envelope`]: the body of a command message built from its fields;
//! - [`command_id`](mod@command_id): a `commandId` written into a body
//!   that has none, so the idempotency key travels with the body;
//! - [`chunking`]: `SendMessageBatch` requests of at most 10 entries and
//!   256 KiB;
//! - [`Outgoing`] and [`send_batch`]: one message's body, attributes,
//!   FIFO group and deduplication ids and delay, and one `SendMessageBatch` request
//!   with SQS's answer by entry;
//! - [`is_fifo_queue_url`]: which queues need those ids;
//! - [`sink`]: the event processor's `CommandSink`, reactions to the
//!   command queue through all of the above.
//!
//! Depends on `aws-sdk-sqs`, `serde_json`, `sdk-error`, and for the
//! sink on `event-processor` (the trait) and `state-machine` (the ids and the
//! reaction's command): no handler, no store, no tokio runtime of its own.
#![forbid(unsafe_code)]

pub mod chunking;
pub mod command_id;
pub mod envelope;
mod outgoing;
pub mod sink;

pub use outgoing::{BatchAnswer, FifoIds, MAX_DELAY_SECONDS, Outgoing, Refused, send_batch};

/// True when `queue_url` names a FIFO queue (its name ends in `.fifo`).
///
/// ```
/// use sqs_commands::is_fifo_queue_url;
/// assert!(is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/orders.fifo"));
/// assert!(is_fifo_queue_url("http://127.0.0.1:5000/1/orders.fifo/"));
/// assert!(!is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/orders"));
/// assert!(!is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/fifo"));
/// ```
pub fn is_fifo_queue_url(queue_url: &str) -> bool {
    queue_url.trim_end_matches('/').ends_with(".fifo")
}
