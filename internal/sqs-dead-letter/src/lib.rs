//! The operator's toolkit for the dead-letter queue (DLQ), which
//! `cmdctl dlq` wires to the command line. The handler's side, sending
//! rejections to the DLQ at once, is the crate `sqs-dlq-sink`; this crate
//! reads back the attributes it writes
//! (`command_messages::rejection_attributes`).
//!
//! The parts:
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
//!   neither; the copies are built by `command-messages` and sent by
//!   `sqs-batch`, like every other command message;
//! - [`create`]: the command queue and its DLQ, created idempotently with
//!   the redrive policy (for emulators and dev accounts);
//! - [`Progress`]: how a long listing or redrive reports how far it got.
//!
//! What it may depend on: `handler-core` (failure records), the AWS-free
//! `command-messages`, the SDK helpers (`sqs-batch`, `sdk-error`); never
//! another adapter (the rejection sink included: the attribute names are
//! shared through `command-messages`).
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

pub mod create;
mod error;
pub mod explain;
mod letter;
pub mod move_task;
pub mod peek;
mod progress;
pub mod queues;
pub mod redrive;

pub use error::DlqError;
pub use explain::{Explained, explain};
pub use letter::DeadLetter;
pub use progress::Progress;
pub use redrive::{
    Moved, NotMoved, Redrive, RedriveMethod, RedriveOptions, RedriveReport, Selection,
};
