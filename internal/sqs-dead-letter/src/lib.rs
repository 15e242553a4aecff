//! The dead-letter queue (DLQ), from both sides.
//!
//! **The handler's side** ([`SqsDeadLetters`]): permanently rejected
//! messages go to the DLQ at once, so a message that can never apply is not
//! received ten times first. Each copy keeps the original body and carries
//! the reason as message attributes ([`attributes`]):
//!
//! | attribute | value |
//! | --- | --- |
//! | `rejectionCode` | the failure's code (`invalid_transition`, ...) |
//! | `rejectionReason` | the failure's text (never payload values) |
//! | `originalMessageId` | the message id on the source queue (the failure record's key) |
//! | `aggregate`, `command`, `commandId` | when the body could be parsed |
//! | `rejectedAt` | RFC 3339 UTC |
//!
//! A message counts as taken only when `SendMessageBatch` accepted it; any
//! other stays failed and is retried as usual, so nothing is lost.
//!
//! **The operator's side**, which `cmdctl dlq` wires to the command line:
//! - [`queues`]: which queue is whose DLQ (the source queue's
//!   `RedrivePolicy`, or `ListDeadLetterSourceQueues`), depth, purge.
//!   Purge and redrive refuse a queue that is no queue's DLQ: a live
//!   queue's URL given by mistake is never emptied;
//! - [`peek`]: listing a DLQ without consuming it (receive with a short
//!   visibility timeout until no new message comes, then make every one
//!   visible again), as [`DeadLetter`]s;
//! - [`explain`](mod@explain): each dead letter with the failure record the handler
//!   wrote for it (looked up by `originalMessageId` when the copy has one,
//!   else by the DLQ message's own id, which a redrive policy keeps);
//! - [`redrive`]: back to the source queue without loss: SQS's own message
//!   move task for a whole queue where the service has it, else
//!   send-then-delete, never delete-then-send, so an interruption leaves a
//!   message in both queues (applied once, by its `commandId`), never in
//!   neither;
//! - [`batch`]: `SendMessageBatch` chunking by count and size, and
//!   [`command_id`](mod@command_id): a `commandId` written into a body that
//!   has none; both shared with bulk senders.
//!
//! Depends on `handler-core` (the [`RejectionSink`](handler_core::RejectionSink)
//! trait, failure records) and `aws-sdk-sqs`.
//!
//! ```no_run
//! # fn demo<S: handler_core::EventStore + handler_core::FailureLog, C: handler_core::ConfigSource>(
//! #     sqs: aws_sdk_sqs::Client, handler: batch_handler::Handler<S, C>) {
//! let dlq = sqs_dead_letter::SqsDeadLetters::new(sqs, "https://sqs.eu-west-1.amazonaws.com/1/commands-dlq");
//! let handler = handler.with_rejection_sink(std::sync::Arc::new(dlq));
//! # let _ = handler; }
//! ```
//!
//! ```no_run
//! # async fn demo(sqs: aws_sdk_sqs::Client) -> Result<(), sqs_dead_letter::DlqError> {
//! use sqs_dead_letter::{Redrive, Selection, peek, queues};
//! let queue = "https://sqs.eu-west-1.amazonaws.com/1/commands";
//! let dlq = queues::dead_letter_queue_of(&sqs, queue).await?;
//! let letters = peek::peek(&sqs, &dlq, &peek::PeekOptions::default(), &()).await?;
//! println!("{} dead letters", letters.len());
//! let report = Redrive::new(sqs, dlq, queue).run(&Selection::All, &()).await?;
//! assert!(report.is_complete());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod attributes;
pub mod batch;
pub mod command_id;
mod error;
pub mod explain;
mod letter;
pub mod move_task;
pub mod peek;
mod progress;
pub mod queues;
pub mod redrive;
mod sink;

pub use error::DlqError;
pub use explain::{Explained, explain};
pub use letter::DeadLetter;
pub use progress::Progress;
pub use redrive::{
    Moved, NotMoved, Redrive, RedriveMethod, RedriveOptions, RedriveReport, Selection,
};
pub use sink::SqsDeadLetters;
