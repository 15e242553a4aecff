//! The Lambda's rejection sink ([`SqsDeadLetters`]): permanently rejected
//! messages go to the dead-letter queue (DLQ) at once, so a message that
//! can never apply is not received ten times first. Each copy keeps the
//! original body and carries the reason as message attributes
//! (`command_messages::rejection_attributes`):
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
//! Its own crate so that the Lambda links the sink and not the operator's
//! DLQ toolkit (`sqs-dead-letter`, which reads these attributes back).
//! What it may depend on: the engine's trait it implements
//! ([`RejectionSink`](handler_core::RejectionSink) in `handler-core`), the
//! AWS-free `command-messages`, the SDK helpers (`sqs-batch`,
//! `sdk-error`); never another adapter.
//!
//! ```no_run
//! # fn demo<S: handler_core::EventStore + handler_core::FailureLog, C: handler_core::ConfigSource>(
//! #     sqs: aws_sdk_sqs::Client, handler: batch_handler::Handler<S, C>) {
//! let dlq = sqs_dlq_sink::SqsDeadLetters::new(
//!     sqs,
//!     "https://sqs.eu-west-1.amazonaws.com/1/commands-dlq",
//!     std::sync::Arc::new(handler_core::SystemClock), // dates `rejectedAt`
//! );
//! let handler = handler.with_rejection_sink(std::sync::Arc::new(dlq));
//! # let _ = handler; }
//! ```
#![forbid(unsafe_code)]

mod sink;

pub use sink::SqsDeadLetters;
