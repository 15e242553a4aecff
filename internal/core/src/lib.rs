//! The command handler's core, with no AWS and no network.
//!
//! It owns:
//! - [`envelope`]: the command message of CONTRACT §2, parsed strictly;
//! - [`model`]: aggregate keys, events, idempotency records and commits;
//! - [`store`]: the [`EventStore`] trait, shaped for conditional and
//!   transactional writes (head item + atomic commit under an expected
//!   version), and [`config_source`]: the [`ConfigSource`] trait;
//! - [`failure`]: typed failures, permanent ([`Rejection`]) or [`Transient`],
//!   and [`failure_log`]: the record of each failure an operator reads later;
//! - [`handler`]: the batch handler that turns a [`Batch`] of SQS messages
//!   into a [`BatchReport`].
//!
//! It depends on `state-machine` (pkg) and never on an AWS crate, a Lambda
//! crate or a store implementation: adapters implement its traits.
//!
//! ```
//! # use handler_core::*;
//! # async fn demo(store: impl EventStore, configs: impl ConfigSource) {
//! let handler = Handler::new(store, configs);
//! let report = handler
//!     .handle(Batch::standard(vec![InboundMessage::new(
//!         "m-1",
//!         r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder",
//!             "payload":{"itemId":"beans","quantity":1}}"#,
//!     )]))
//!     .await;
//! // The ids Lambda must hear about: only the failed ones.
//! let failed: Vec<String> = report.failed_message_ids();
//! # let _ = failed;
//! # }
//! ```
#![forbid(unsafe_code)]

mod aggregate;
pub mod batch;
pub mod config_source;
pub mod envelope;
pub mod failure;
pub mod failure_log;
pub mod handler;
pub mod model;
pub mod rejection_sink;
pub mod size;
pub mod store;

pub use batch::{Applied, Batch, BatchReport, InboundMessage, MessageOutcome};
pub use config_source::{ConfigSource, ConfigSourceError};
pub use envelope::{Command, EnvelopeError, parse_command};
pub use failure::{Failure, Rejection, Transient};
pub use failure_log::{FailureRecord, StoredFailure};
pub use handler::{Handler, HandlerOptions};
pub use model::{AggregateKey, CommandRecord, Commit, Event, fingerprint, now_rfc3339};
pub use rejection_sink::{Rejected, RejectionSink};
pub use store::{
    AggregateSummary, AppendError, EventStore, Loaded, StoreError, StoreLimits, all_events,
};

/// Re-exported so that users of the core need not name the pkg crate.
pub use state_machine;
