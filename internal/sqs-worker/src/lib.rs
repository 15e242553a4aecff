//! Drives the command handler from an SQS queue the way Lambda's event source
//! mapping does, for running outside Lambda (a container, a laptop, tests
//! against an emulator):
//!
//! 1. `ReceiveMessage`: up to 10 messages, long polling, with every message
//!    system attribute (so `MessageGroupId` and `ApproximateReceiveCount` are
//!    there). A queue whose URL ends in `.fifo` is handled as FIFO.
//! 2. The messages become a [`handler_core::Batch`] and go through
//!    [`batch_handler::Handler::handle`].
//! 3. Exactly the applied messages are deleted, in one `DeleteMessageBatch`
//!    call. Failed messages are left alone: they reappear after the queue's
//!    visibility timeout, and the queue's redrive policy moves one that keeps
//!    failing to its dead-letter queue after `maxReceiveCount` receives, as
//!    with Lambda's `ReportBatchItemFailures` (docs/reference.md §5).
//!
//! It owns the polling loop only ([`Worker`]). What it may depend on: the
//! engines it drives (`handler-core`, `batch-handler`), the AWS-free
//! `command-messages` and the SQS SDK; never a store or config
//! implementation, nor another adapter.
//!
//! ```no_run
//! # use handler_core::{ConfigSource, EventStore, FailureLog};
//! # use batch_handler::Handler;
//! # async fn demo(sqs: aws_sdk_sqs::Client, store: impl EventStore + FailureLog, configs: impl ConfigSource) {
//! let worker = sqs_worker::Worker::new(sqs, "https://sqs.eu-west-1.amazonaws.com/1/orders", Handler::new(store, configs))
//!     .with_wait_time_seconds(1);
//! let stats = worker.run_until_empty().await.expect("SQS reachable");
//! println!("{} received, {} applied, {} failed", stats.received, stats.applied, stats.failed);
//! # }
//! ```
#![forbid(unsafe_code)]

mod delete;
mod errors;
mod options;
mod receive;
mod received;
mod stats;
mod worker;

pub use errors::{DeleteFailure, WorkerError};
pub use options::WorkerOptions;
pub use received::ReceivedMessage;
pub use stats::PollStats;
pub use worker::{Polled, Worker};
