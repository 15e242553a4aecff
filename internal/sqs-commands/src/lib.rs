//! Commands put on the command queue by the producers that are not the
//! operator's CLI:
//!
//! - [`sink`]: the event processor's reactions
//!   ([`SqsCommandSink`](sink::SqsCommandSink), its
//!   [`CommandSink`](event_processor::CommandSink) over SQS), also the
//!   queued path of the alarms (the processor Lambda's wiring hands it to
//!   the scheduling sink). Each reaction is one message whose body is the
//!   command's JSON (`command-messages` builds it, with its FIFO group and
//!   deduplication id), sent in `SendMessageBatch` requests (`sqs-batch`) of
//!   at most 10 entries and 256 KiB; the answer is per command.
//! - [`queue`]: the HTTP API's commands sent without `Prefer: wait`
//!   ([`SqsCommandQueue`](queue::SqsCommandQueue), its
//!   [`CommandQueue`](handler_core::CommandQueue) over SQS): one
//!   `SendMessage` per command, with the same FIFO group and deduplication
//!   id as a reaction to the same aggregate and command id would get.
//!
//! What it may depend on: the engines whose traits it implements
//! (`event-processor`, and `handler-core` for the queue), `pkg/` crates, the
//! AWS-free `command-messages`, the SDK helpers (`sqs-batch`, `sdk-error`);
//! never another adapter.
#![forbid(unsafe_code)]

pub mod queue;
pub mod sink;

pub use queue::SqsCommandQueue;
pub use sink::SqsCommandSink;
