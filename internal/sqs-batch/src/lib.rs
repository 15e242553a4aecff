//! One `SendMessageBatch` request: the messages to send ([`Outgoing`]:
//! body, attributes, FIFO ids, delay) and SQS's answer by entry
//! ([`BatchAnswer`]).
//!
//! A helper over the SQS client that serves no engine's trait, like
//! `sdk-error`: the SQS adapters (the reactions' sink, the rejection sink,
//! the DLQ redrive) and `cmdctl send --file` share it. What it may depend
//! on: the SQS SDK only; never an engine, a store or another adapter.
#![forbid(unsafe_code)]

mod outgoing;

pub use outgoing::{BatchAnswer, FifoIds, Outgoing, Refused, send_batch};
