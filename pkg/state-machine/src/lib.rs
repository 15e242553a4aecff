//! Declarative aggregate state machines: the config model (docs/reference.md §2), its
//! validation, `decide` (may this command run now, and what does it record?)
//! the fold that applies an event to an aggregate's state, the reactions a
//! stored event causes (`then`, built by [`StateMachine::reactions`]), the
//! alarms a transition sets and clears ([`Alarm`], [`AlarmChanges`],
//! [`alarm_command`], stale alarms: docs/alarms.md), the commands outside
//! events become through `bindings` ([`StateMachine::bind`]), and the
//! [`diff`] of two configs (what an upload would change).
//!
//! This crate owns the rules only (JSON Logic through `datalogic-rs`, time
//! through `jiff`, re-exported as [`Timestamp`]). It must never depend on
//! AWS, tokio or any I/O: it takes bytes or values and returns values (the
//! time is given, as [`CommandInput::now`]), so every adapter (Lambda, CLI,
//! stores) shares one definition of what a command does.
//!
//! # Reading order
//!
//! The modules form layers, each using only those above it (a test,
//! `tests/module_graph.rs`, fails on any import circle):
//!
//! 1. **Leaves**: `fault` ([`ConfigError`], [`ConfigFault`]: what a refused
//!    config is told) and [`ids`] (every id the engine and its adapters
//!    derive, in one table; the one SHA-256 encoder).
//! 2. **Model** (`model/`): the config as written (`config`), an aggregate's
//!    state and its fold (`state`), alarms as stored (`alarm`), and the
//!    commands and events the engine takes and gives (`command`:
//!    [`CommandInput`], [`EventView`], [`DerivedCommand`]).
//! 3. **Tools**: JSON Logic rules and their evaluation budget (`rule`,
//!    `rule_bounds`), payload schemas (`schema`), times and ISO 8601
//!    durations (`duration`).
//! 4. **Compile**: `compile` parses a config and checks its meaning, calling
//!    each feature's compile module: `guard/compile.rs` (guards and `set`),
//!    `reaction/compile.rs` (`then`), `alarm/compile.rs` (`alarms`,
//!    `expiry`), `binding/compile.rs` (`bindings`).
//! 5. **Decide**: `machine` ([`StateMachine`], [`Decision`], [`Rejection`])
//!    decides a command, calling `guard/evaluate.rs` (does a transition
//!    apply, what does `set` compute) and `alarm/evaluate.rs` (what the
//!    command sets and clears).
//! 6. **React**: `reaction/evaluate.rs` builds a stored event's reactions
//!    ([`StateMachine::reactions`]) and `alarm/evaluate.rs` a due alarm's
//!    command ([`alarm_command`]); both give a [`DerivedCommand`].
//!    `binding/evaluate.rs` builds the command an outside event becomes
//!    ([`StateMachine::bind`], a [`BoundCommand`]).
//! 7. **Across configs**: `config_set` checks the configs loaded together
//!    ([`validate_set`]); [`diff`] compares two versions of one; [`graph`]
//!    draws them as Mermaid or DOT (`cmdctl config graph`); [`svg`] draws
//!    one config as SVG with one state marked (the console's diagram).
//!
//! Every feature is split the same way: `<feature>/compile.rs` runs once
//! when a config is loaded and appends [`ConfigFault`]s; `<feature>/evaluate.rs`
//! runs for each command or event, on what compile made.
//!
//! # Examples
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
//!
//! A transition's `then` lists the commands its event causes (its
//! reactions); each value is a literal or a JSON Logic rule over the event,
//! compiled once with the config. [`StateMachine::reactions`] builds them from
//! a stored event, with deterministic ids and correlation metadata:
//!
//! ```
//! use serde_json::{Map, json};
//! use state_machine::{EventView, StateMachine};
//!
//! let machine = StateMachine::from_json(br#"{
//!   "aggregateType": "order", "version": 1, "initialState": "New",
//!   "states": ["New", "Created"], "publish": true,
//!   "transitions": [
//!     { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
//!       "then": [ { "aggregateType": "inventory", "aggregateId": { "var": "payload.itemId" },
//!                   "command": "Reserve", "payload": { "orderId": { "var": "aggregateId" } } } ] }
//!   ]
//! }"#)?;
//! assert!(machine.publishes());
//!
//! let payload = json!({ "itemId": "sku-1" });
//! let payload = payload.as_object().expect("an object");
//! let event = EventView {
//!     aggregate_type: "order", aggregate_id: "o-1", version: 1,
//!     event_type: "OrderCreated", state: "Created",
//!     data: payload, payload, metadata: &Map::new(), command_id: "c-1",
//!     config_version: 1,
//! };
//! let reactions = machine.reactions(&event);
//! let reserve = reactions[0].as_ref().expect("built");
//! assert_eq!(reserve.command_id, "order#o-1@1/0");
//! assert_eq!((reserve.aggregate_id.as_str(), reserve.command.as_str()), ("sku-1", "Reserve"));
//! assert_eq!(reserve.payload["orderId"], "o-1");
//! assert_eq!(reserve.metadata["causationId"], "order#o-1@1");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A transition may carry business rules (JSON Logic, compiled and bounded
//! once with the config): a `guard` that must hold for it to apply, and a
//! `set` of values computed into the stored event's payload. Transitions
//! sharing a command and a state are tried in order;
//! [`StateMachine::decide_command`] gives the payload to store:
//!
//! ```
//! use serde_json::{Map, json};
//! use state_machine::{CommandInput, Rejection, StateMachine};
//!
//! let machine = StateMachine::from_json(br#"{
//!   "aggregateType": "inventory", "version": 1, "initialState": "Available",
//!   "states": ["Available"],
//!   "transitions": [
//!     { "command": "Reserve", "from": ["Available"], "to": "Available", "event": "StockReserved",
//!       "guard": { ">=": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] },
//!       "guardMessage": "not enough stock",
//!       "set": { "stock": { "-": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] } } }
//!   ]
//! }"#)?;
//!
//! let mut item = machine.initial_state();
//! item.apply("Available", json!({ "stock": 5 }).as_object().expect("an object"));
//! let payload = json!({ "quantity": 2 });
//! let payload = payload.as_object().expect("an object");
//! let input = CommandInput {
//!     aggregate_type: "inventory", aggregate_id: "sku-1", command: "Reserve",
//!     payload, metadata: &Map::new(), now: state_machine::Timestamp::now(),
//! };
//! let decision = machine.decide_command(&item, &input)?;
//! let stored = decision.payload.expect("the transition has a `set`");
//! assert_eq!(stored["stock"], 3);
//! item.apply(&decision.to_state, &stored);
//!
//! // 3 left, 4 asked: the guard does not hold, and nothing else applies.
//! let payload = json!({ "quantity": 4 });
//! let input = CommandInput { payload: payload.as_object().expect("an object"), ..input };
//! let refused = machine.decide_command(&item, &input);
//! assert!(matches!(refused, Err(Rejection::GuardFailed { reason, .. }) if reason.contains("not enough stock")));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A transition may set and clear alarms of its own aggregate; a config may
//! declare an `expiry`. The decision carries the alarm changes (due times
//! from the command's `now`), the state keeps the alarms, and a fired
//! alarm's command applies only while its alarm is still set by the version
//! that set it; otherwise it is [`Rejection::Stale`], which is no failure. A
//! firing must be the alarm's (its command and payload, else
//! [`Rejection::AlarmMismatch`]) and come when it is due (no earlier than
//! [`ALARM_EARLY_TOLERANCE_SECONDS`] before, else [`Rejection::AlarmNotDue`]):
//!
//! ```
//! use serde_json::{Map, json};
//! use state_machine::{CommandInput, Rejection, Stale, StateMachine, Timestamp, alarm_command};
//!
//! let machine = StateMachine::from_json(br#"{
//!   "aggregateType": "order", "version": 1, "initialState": "New",
//!   "states": ["New", "AwaitingPayment", "Paid", "Cancelled"],
//!   "transitions": [
//!     { "command": "Place", "from": ["New"], "to": "AwaitingPayment", "event": "Placed",
//!       "alarms": { "set": [ { "name": "payment-timeout", "after": "PT15M",
//!                              "command": "PaymentTimedOut" } ] } },
//!     { "command": "Pay", "from": ["AwaitingPayment"], "to": "Paid", "event": "Paid",
//!       "alarms": { "clear": [ "payment-timeout" ] } },
//!     { "command": "PaymentTimedOut", "from": ["AwaitingPayment"], "to": "Cancelled",
//!       "event": "PaymentTimedOut" }
//!   ]
//! }"#)?;
//!
//! let now: Timestamp = "2030-01-01T12:00:00Z".parse()?;
//! let (empty, metadata) = (Map::new(), Map::new());
//! let input = |command| CommandInput {
//!     aggregate_type: "order", aggregate_id: "o-1", command,
//!     payload: &empty, metadata: &metadata, now,
//! };
//! let mut order = machine.initial_state();
//! let placed = machine.decide_command(&order, &input("Place"))?;
//! order.apply(&placed.to_state, &empty);
//! order.apply_alarms(placed.alarms.as_ref().expect("it sets an alarm"));
//! let timeout = &order.alarms["payment-timeout"];
//! assert_eq!(timeout.due.to_string(), "2030-01-01T12:15:00Z");
//!
//! // When due, the alarm sends this command to its own aggregate.
//! let fired = alarm_command("order", "o-1", timeout);
//! assert_eq!(fired.command_id, "order#o-1@1/alarm/payment-timeout");
//! assert_eq!(fired.metadata["alarm"], json!({ "name": "payment-timeout", "version": 1 }));
//!
//! // Paid first: the payment cleared the alarm, so its firing is stale.
//! let mut paid = order.clone();
//! let pay = machine.decide_command(&paid, &input("Pay"))?;
//! paid.apply(&pay.to_state, &empty);
//! paid.apply_alarms(pay.alarms.as_ref().expect("it clears the alarm"));
//! // A firing comes when due: one fifteen minutes early is refused.
//! let due = timeout.due;
//! let early = CommandInput { metadata: &fired.metadata, ..input("PaymentTimedOut") };
//! let early = machine.decide_command(&order, &early);
//! assert!(matches!(early, Err(Rejection::AlarmNotDue { .. })));
//! let late = CommandInput { metadata: &fired.metadata, now: due, ..input("PaymentTimedOut") };
//! let stale = machine.decide_command(&paid, &late);
//! assert!(matches!(stale, Err(Rejection::Stale { why: Stale::NotSet, .. })));
//!
//! // Not paid: the alarm applies, cancels the order, and is consumed.
//! let cancel = machine.decide_command(&order, &late)?;
//! assert_eq!(cancel.to_state, "Cancelled");
//! assert_eq!(cancel.alarms.expect("consumed").cleared[0].name, "payment-timeout");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod alarm;
mod binding;
mod compile;
mod config_set;
pub mod diff;
mod duration;
mod fault;
pub mod graph;
mod guard;
pub mod ids;
mod machine;
mod model;
mod reaction;
mod rule;
mod rule_bounds;
mod schema;
pub mod svg;

pub use alarm::evaluate::alarm_command;
pub use binding::evaluate::BindingError;
pub use compile::MAX_EVENT_NAME_BYTES;
pub use config_set::{BindingRule, MAX_BINDINGS, binding_rules};
pub use config_set::{SetFault, validate_set};
pub use duration::{DurationError, IsoDuration, MAX_ALARM_YEARS, parse_time};
pub use fault::{ConfigError, ConfigFault};
pub use machine::{Decision, Rejection, StateMachine};
pub use model::alarm::{
    ALARM_EARLY_TOLERANCE_SECONDS, Alarm, AlarmChanges, AlarmRef, Alarms, EXPIRY, MAX_ALARMS, Stale,
};
pub use model::command::{BoundCommand, CommandInput, DerivedCommand, EventView, MAX_HOPS};
pub use model::config::{
    AlarmSpec, AlarmsSpec, BindingSpec, Config, ExpirySpec, ReactionSpec, Transition,
};
pub use model::state::AggregateState;
pub use reaction::evaluate::ReactionError;

/// The time type of alarms and clocks (`jiff`), so that users need no
/// direct dependency on it.
pub use jiff::{SignedDuration, Timestamp};
