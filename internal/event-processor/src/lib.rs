//! The event processor's engine: what happens to stored events after they
//! are written (docs/event-processor.md, docs/reference.md §2).
//!
//! [`EventProcessor::process`] takes a batch of [`SourceRecord`]s (from the
//! DynamoDB stream, or from an [`EventFeed`](handler_core::EventFeed)),
//! groups the events by aggregate, orders each aggregate's events by version,
//! publishes those of types whose config says `publish` (one [`Publisher`]
//! call), then sends the reactions their config's `then` builds (one
//! [`CommandSink`] call), then hands the alarms the events set and cleared
//! to an [`AlarmSink`] as [`AlarmOrder`]s (one call; [`alarms`]; by default
//! [`KeepAlarms`], which does nothing). It reports the first record, in
//! input order, that did not finish: the caller retries from there. An
//! unfinished event stops its aggregate's later events; the other
//! aggregates go on.
//!
//! It also owns [`tracking`] (checkpointed replay from a feed). The local
//! publisher (JSON lines) lives with the local runtime (`local-runtime`).
//!
//! What it may depend on: `handler-core`, `pkg/` crates and small
//! non-async libraries; never AWS, a Lambda crate or an async runtime.
#![forbid(unsafe_code)]

pub mod alarms;
mod delivery;
mod processor;
mod publication;
mod record;
mod report;
pub mod tracking;

pub use alarms::{AlarmCounts, AlarmDone, AlarmOrder, AlarmSink, KeepAlarms};
pub use delivery::{CommandSink, DeliveryError, DeliveryKind, Publisher};
pub use processor::{DEFAULT_DEADLINE_MARGIN, EventProcessor};
pub use publication::Publication;
pub use record::{RecordBody, SourceRecord};
pub use report::{EventOutcome, Outcome, ProcessReport};
pub use state_machine::DerivedCommand;
