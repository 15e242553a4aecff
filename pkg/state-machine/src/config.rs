//! The config document: one JSON file per aggregate type (docs/reference.md §2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A state-machine config as written in JSON (`camelCase`, unknown fields refused).
///
/// Parsing only checks the shape; [`StateMachine::from_config`](crate::StateMachine::from_config)
/// checks the meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// The aggregate type this machine governs, e.g. `"order"`.
    pub aggregate_type: String,
    /// The config's own version number.
    pub version: u64,
    /// The state of an aggregate that has no events yet.
    pub initial_state: String,
    /// Every state name, each once.
    pub states: Vec<String>,
    /// The commands and where they lead.
    pub transitions: Vec<Transition>,
    /// True when this type's events are published (docs/reference.md §2);
    /// absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish: bool,
}

/// One command accepted from one or more states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transition {
    /// Name of the command.
    pub command: String,
    /// The states the command is accepted in.
    pub from: Vec<String>,
    /// The state after the event.
    pub to: String,
    /// The event type recorded when the command is accepted.
    pub event: String,
    /// Optional JSON Schema (draft 2020-12) the payload must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_schema: Option<Value>,
    /// A JSON Logic rule (or a literal boolean): the transition applies only
    /// when it evaluates to a truthy value. Rules see the aggregate before the
    /// command (docs/reference.md §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<Value>,
    /// The reason given when this guard is the last one tried and does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_message: Option<String>,
    /// Computed values: field -> literal or rule; the results are written into
    /// the event's payload (over same-named fields) before the fold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Map<String, Value>>,
    /// The commands that follow this transition's event (its reactions), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<ReactionSpec>,
}

/// One reaction as written in a transition's `then`: the command that follows
/// the event. `aggregateType` and `aggregateId` default to the event's own
/// aggregate; `payload` to an empty object. Every value is a literal or a
/// JSON Logic rule over the event (compiled once, when the config is loaded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactionSpec {
    /// The target aggregate's type (default: the event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_type: Option<Value>,
    /// The target aggregate's id (default: the event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_id: Option<Value>,
    /// The command's name.
    pub command: Value,
    /// The command's payload: each field a literal or a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Map<String, Value>>,
}
