//! The event processor's reactions on the command queue:
//! [`SqsCommandSink`](sink::SqsCommandSink), its
//! [`CommandSink`](event_processor::CommandSink) over SQS, also the queued
//! path of the alarms (the processor Lambda's wiring hands it to the
//! scheduling sink).
//!
//! Each reaction is one message whose body is the command's JSON
//! (`command-messages` builds it, with its FIFO group and deduplication
//! id), sent in `SendMessageBatch` requests (`sqs-batch`) of at most 10
//! entries and 256 KiB; the answer is per command.
//!
//! What it may depend on: the engine whose trait it implements
//! (`event-processor`), `pkg/` crates, the AWS-free `command-messages`, the
//! SDK helpers (`sqs-batch`, `sdk-error`); never another adapter.
#![forbid(unsafe_code)]

pub mod sink;
