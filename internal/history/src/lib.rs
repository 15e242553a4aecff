//! An aggregate's and a correlation's past, read back from any store of
//! `handler-core`'s traits, as typed reports that a CLI or a server renders.
//!
//! It owns:
//! - [`replay`]: an aggregate's events refolded from its config's initial
//!   state (as the handler applies them) and compared with the stored head:
//!   gaps in the versions, state, version, data keys and alarms, each a
//!   [`Difference`];
//! - [`causal`]: one correlation's events in causal order (each after its
//!   cause and after its own aggregate's earlier events, then by time).
//!
//! It depends on `handler-core` only; never on an AWS crate, an async
//! runtime, clap or a terminal. It never prints and never logs payloads.
//!
//! ```
//! # use handler_core::AggregateKey;
//! # use handler_core::state_machine::AggregateState;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = store_sqlite::SqliteStore::in_memory()?;
//! let key = AggregateKey::new("order", "o-1");
//! let initial = AggregateState {
//!     state: "New".to_owned(),
//!     version: 0,
//!     data: Default::default(),
//!     alarms: Default::default(),
//! };
//! let replay = history::replay(&store, &key, initial, |_read, _total| {}).await?;
//! // Nothing stored: no head and no events.
//! assert!(replay.is_empty());
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

pub mod causal;
pub mod replay;
pub mod trace;

pub use causal::causal_order;
pub use replay::{Difference, PAGE, Replay, compare, fold, replay};
pub use trace::trace_json;
