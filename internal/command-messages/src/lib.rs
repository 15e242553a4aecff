//! The shapes of command messages, with no AWS client: what every sender
//! of commands builds (`cmdctl send`, `send --file`, the DLQ redrive, the
//! Lambda's rejection sink, the event processor's reactions and alarms)
//! and what the EventBridge publisher shares for its own batches.
//!
//! - [`envelope`]: the body of a command message built from its fields,
//!   its FIFO message group and its deduplication id;
//! - [`command_id`](mod@command_id): a `commandId` written into a body
//!   that has none, so the idempotency key travels with the body;
//! - [`file_lines`]: a file of command messages checked line by line with
//!   the handler's parser, each line given a `commandId` stable across runs;
//! - [`event_lines`]: the outside events of `cmdctl ingest`, one JSON
//!   event or JSON lines of them, as message bodies;
//! - [`sqs_text`]: JSON bodies with the characters SQS refuses escaped;
//! - [`chunking`]: batch requests of at most 10 entries and 256 KiB (and
//!   the same under other limits);
//! - [`rejection_attributes`]: the attributes a rejected message's
//!   dead-letter copy carries;
//! - [`is_fifo_queue_url`] and [`MAX_DELAY_SECONDS`]: what a queue's kind
//!   asks of a message.
//!
//! What it may depend on: `pkg/` crates, the model (`handler-core`, whose
//! parser checks a file's lines) and pure libraries; never an AWS SDK, a
//! store or an engine, so that every adapter can use it.
#![forbid(unsafe_code)]

pub mod chunking;
pub mod command_id;
pub mod envelope;
pub mod event_lines;
pub mod file_lines;
pub mod rejection_attributes;
pub mod sqs_text;

/// The longest delay SQS gives one message: 15 minutes.
pub const MAX_DELAY_SECONDS: u32 = 900;

/// True when `queue_url` names a FIFO queue (its name ends in `.fifo`).
///
/// ```
/// use command_messages::is_fifo_queue_url;
/// assert!(is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/orders.fifo"));
/// assert!(is_fifo_queue_url("http://127.0.0.1:5000/1/orders.fifo/"));
/// assert!(!is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/orders"));
/// assert!(!is_fifo_queue_url("https://sqs.eu-west-1.amazonaws.com/1/fifo"));
/// ```
pub fn is_fifo_queue_url(queue_url: &str) -> bool {
    queue_url.trim_end_matches('/').ends_with(".fifo")
}
