//! The command handler's model and traits, with no engine, no AWS and no
//! network: what stores, config sources, the batch engine (`batch-handler`)
//! and whatever else reads or writes events depend on.
//!
//! It owns:
//! - [`envelope`]: the command message of docs/reference.md §1, parsed strictly;
//! - [`outside_event`]: an EventBridge event on the command queue, and the
//!   command its binding builds (`bindings`, docs/reference.md §2);
//! - [`model`]: aggregate keys, events, idempotency records and commits;
//! - [`batch`]: what goes into a handler (a [`Batch`] of SQS messages) and
//!   what comes out (a [`BatchReport`]);
//! - [`failure`]: typed failures, [`Permanent`] or [`Transient`];
//! - [`clock`]: the handler's [`Clock`] (system, shifted or fixed), the
//!   "now" of `recordedAt` and of the alarms a command sets;
//! - the traits adapters implement, each narrow: [`store`]'s [`EventStore`]
//!   (load, append, read back, and [`commit_size`]'s [`CommitSizing`]: how
//!   the store counts a commit and its limits, which only the store knows),
//!   [`failure_log`]'s [`FailureLog`] (the
//!   record of each failure an operator reads later), [`aggregate_index`]'s
//!   [`AggregateIndex`] (the listing by type), [`config_source`]'s
//!   [`ConfigSource`], [`rejection_sink`]'s [`RejectionSink`],
//!   [`command_queue`]'s [`CommandQueue`] (the queue a command is put on
//!   to be handled later), and
//!   [`event_feed`]'s [`EventFeed`] and [`Checkpoints`] (stored events read in
//!   order, as [`StoredEvent`]s, after a saved cursor) and [`Correlations`]
//!   (one flow's events); [`correlation`] follows one flow from its root
//!   aggregate through its reactions over any [`EventStore`].
//!
//! What it may depend on: `pkg/` crates and small, non-async libraries;
//! never an AWS crate, a Lambda crate, an async runtime or an
//! implementation of its traits.
//!
//! ```
//! use handler_core::{AggregateKey, parse_command};
//!
//! let command = parse_command(
//!     r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder",
//!         "payload":{"itemId":"beans","quantity":1}}"#,
//!     "m-1",
//! )
//! .unwrap();
//! assert_eq!(command.key, AggregateKey::new("order", "o-1"));
//! // Without a `commandId`, the SQS message id is the idempotency key.
//! assert_eq!(command.command_id, "m-1");
//! ```
#![forbid(unsafe_code)]

pub mod aggregate_index;
pub mod batch;
pub mod cause;
pub mod clock;
pub mod command_queue;
pub mod commit_size;
pub mod config_source;
pub mod correlation;
pub mod envelope;
pub mod event_feed;
pub mod failure;
pub mod failure_log;
pub mod model;
pub mod outside_event;
pub mod publication;
pub mod rejection_sink;
pub mod store;
pub mod stored_event;

pub use aggregate_index::{AggregateIndex, AggregateSummary};
pub use batch::{Applied, Batch, BatchReport, InboundMessage, MessageOutcome};
pub use cause::Cause;
pub use clock::{Clock, FixedClock, ShiftedClock, SystemClock, rfc3339_millis};
pub use command_queue::{CommandQueue, QueueError};
pub use commit_size::{CommitSizing, Footprint, StoreLimits};
pub use config_source::{ConfigSource, ConfigSourceError};
pub use correlation::{WalkError, walk_correlation};
pub use envelope::{Command, EnvelopeError, parse_command};
pub use event_feed::{
    Checkpoints, Correlations, EventFeed, FeedPage, FeedQuery, recorded_at_bound,
};
pub use failure::{Failure, HoldScope, Permanent, Transient};
pub use failure_log::{FailureLog, FailureRecord, StoredFailure};
pub use model::{AggregateKey, CommandRecord, Commit, Event, fingerprint};
pub use outside_event::{OutsideEvent, bind_event, command_of_event, outside_event};
pub use rejection_sink::{Rejected, RejectionSink};
pub use store::{AppendError, EventStore, Loaded, StoreError, all_events};
pub use stored_event::StoredEvent;

/// Re-exported so that users of the core need not name the pkg crate.
pub use state_machine;
