//! The batch engine: turns a [`Batch`](handler_core::Batch) of SQS messages
//! into a [`BatchReport`](handler_core::BatchReport), one outcome per message.
//!
//! It owns the [`Handler`] and its [`HandlerOptions`]: parsing (a body
//! that is an EventBridge event becomes the command of its binding, the
//! bindings asked of the config source once per source and detail-type per
//! batch: `handler_core::outside_event`), lanes (one per
//! aggregate, or per FIFO message group) run concurrently, each aggregate's
//! run decided in memory and appended in as few commits as the store allows,
//! retries with backoff when other writers win, every stage bounded by the
//! invocation's deadline, and the hand-over of permanent rejections to a
//! rejection sink together with the failure records. The time (`recordedAt`,
//! the now alarms are due from) comes from its [`Clock`](handler_core::Clock)
//! ([`Handler::with_clock`]); a fired alarm that no longer applies is
//! acknowledged as `stale`, with no event and no failure (docs/alarms.md).
//!
//! What it may depend on: the model and the traits it drives
//! (`handler-core`), `pkg/` crates and runtime-neutral libraries (futures,
//! tokio's timer); never an AWS crate or a store or config implementation:
//! those are given to it.
//!
//! ```
//! use batch_handler::Handler;
//! use handler_core::{Batch, ConfigSource, EventStore, FailureLog, InboundMessage};
//!
//! async fn demo(store: impl EventStore + FailureLog, configs: impl ConfigSource) {
//!     let handler = Handler::new(store, configs);
//!     let report = handler
//!         .handle(Batch::standard(vec![InboundMessage::new(
//!             "m-1",
//!             r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder",
//!                 "payload":{"itemId":"beans","quantity":1}}"#,
//!         )]))
//!         .await;
//!     // The ids Lambda must hear about: only the failed ones.
//!     let failed: Vec<String> = report.failed_message_ids();
//!     # let _ = failed;
//! }
//! ```
#![forbid(unsafe_code)]

mod aggregate;
mod handler;
mod hold_back;
mod lanes;
mod retry;

pub use handler::{Handler, HandlerOptions};
pub use retry::RetryPolicy;
