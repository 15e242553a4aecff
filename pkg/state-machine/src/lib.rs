//! Declarative aggregate state machines: the config model (docs/reference.md §2), its
//! validation, `decide` (may this command run now, and what does it record?)
//! the fold that applies an event to an aggregate's state, and the [`diff`]
//! of two configs (what an upload would change).
//!
//! This crate owns the rules only. It must never depend on AWS, tokio or any
//! I/O: it takes bytes or values and returns values, so every adapter (Lambda,
//! CLI, stores) shares one definition of what a command does.
//!
//! ```
//! use state_machine::{Rejection, StateMachine};
//!
//! let machine = StateMachine::from_json(br#"{
//!   "aggregateType": "order",
//!   "version": 1,
//!   "initialState": "New",
//!   "states": ["New", "Created"],
//!   "transitions": [
//!     { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
//!       "payloadSchema": { "type": "object", "required": ["itemId"] } }
//!   ]
//! }"#)?;
//!
//! let mut order = machine.initial_state();
//! let payload = serde_json::json!({ "itemId": "sku-1" });
//! let payload = payload.as_object().expect("an object");
//!
//! let decision = machine.decide(&order, "CreateOrder", payload)?;
//! assert_eq!(decision.event_type, "OrderCreated");
//! order.apply(&decision.to_state, payload);
//! assert_eq!((order.state.as_str(), order.version), ("Created", 1));
//! assert_eq!(order.data["itemId"], "sku-1");
//!
//! // The same command again is refused: the order is no longer `New`.
//! let again = machine.decide(&order, "CreateOrder", payload);
//! assert!(matches!(again, Err(Rejection::InvalidTransition { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod config;
pub mod diff;
mod machine;
mod reaction;
mod schema;
mod state;
mod validate;

pub use config::{Config, ReactionSpec, Transition};
pub use machine::{Decision, Rejection, StateMachine};
pub use reaction::{EventView, ReactionCommand, ReactionError, event_id};
pub use state::AggregateState;
pub use validate::{ConfigError, ConfigFault};
