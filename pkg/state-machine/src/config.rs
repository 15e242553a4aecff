//! The config document: one JSON file per aggregate type (docs/reference.md §2).

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
}
