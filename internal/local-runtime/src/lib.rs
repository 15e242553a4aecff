//! The local runtime: the embedded event processor of the embedded store
//! (docs/event-processor.md, "Locally"), as a library that a CLI verb or a
//! long-running local server calls after each request.
//!
//! A [`LocalRuntime`] is built from the embedded store, a config source and
//! a clock. [`LocalRuntime::handle`] runs a batch through the handler the
//! Lambda runs; [`LocalRuntime::run_until_quiet`] then runs rounds from a
//! checkpoint: `tracking::track` reads the store's events after it,
//! publishes those of publishing types as JSON lines
//! ([`publisher::JsonLines`], the local publisher) and keeps their
//! reactions in the store before the checkpoint moves past them
//! ([`pending`]); the pending reactions then go through the same handler, as
//! SQS batches of up to 10 messages would (message id = the reaction's
//! deterministic command id), and each is removed once its outcome is
//! final: one that failed transiently stays for the next run. Then the
//! alarms due by the clock fire through the same handler
//! ([`LocalRuntime::fire_due_alarms`]). Rounds repeat until one finds no new
//! event and no alarm due (quiet), or the round bound has run with events
//! left: a cycle of reactions stops there, and the next run goes on from the
//! checkpoint. The bound is checked before a round reads anything, so no
//! reaction is dropped. [`LocalRuntime::submit`] is a batch and its rounds.
//!
//! Everything it did is in the typed [`Report`] it returns (counts, each
//! alarm fired, and a [`Notice`] for each thing a person should be told);
//! it never prints and never logs payloads.
//!
//! ```
//! # use std::sync::Arc;
//! # use handler_core::{Batch, InboundMessage, SystemClock};
//! # use local_runtime::LocalRuntime;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = Arc::new(store_sqlite::SqliteStore::in_memory()?);
//! let configs = Arc::new(config_dir::DirConfigSource::new(concat!(
//!     env!("CARGO_MANIFEST_DIR"),
//!     "/../../config"
//! )));
//! let runtime = LocalRuntime::new(store, configs, Arc::new(SystemClock));
//! let body = r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder",
//!               "payload":{"itemId":"beans","quantity":1}}"#;
//! let done = runtime
//!     .submit(Batch::standard(vec![InboundMessage::new("m-1", body)]))
//!     .await?;
//! assert!(done.batch.outcomes[0].result.is_ok());
//! // The inventory had no beans: the saga rejected the order.
//! assert_eq!((done.reactions.applied, done.reactions.failed), (2, 0));
//! println!("{}", done.reactions); // reactions: 2 rounds, ...
//! # Ok(())
//! # }
//! ```
//!
//! [`replay::replay_events`] replays a type's events from a checkpoint
//! (fresh or resumed, limited) through the event processor over any
//! store's feed, publishing them or writing each as a JSON line.
//!
//! [`follow()`] is a server's loop: rounds after each write it is told of,
//! and on a tick for the alarms that come due meanwhile.
//!
//! It owns the rounds, the pending reactions, the firing of due alarms,
//! the local publisher and the checkpointed replay of a type's events. It depends on `handler-core`, `batch-handler`,
//! `event-processor`, `store-sqlite` and tokio's `Notify` and timer only (configs come in as a
//! [`ConfigSource`]); never on an AWS crate, clap or a terminal.
#![forbid(unsafe_code)]

mod alarms;
mod commands;
mod error;
pub mod follow;
pub mod outcome;
mod pending;
pub mod publisher;
pub mod replay;
mod report;
mod runtime;

pub use alarms::Fired;
pub use error::RuntimeError;
pub use follow::follow;
pub use report::{Notice, Origin, Report};
pub use runtime::{CHECKPOINT, DEFAULT_MAX_ROUNDS, LocalHandler, LocalRuntime, Submitted};

#[doc(no_inline)]
pub use handler_core::ConfigSource;
