//! The commands and events the engine takes and gives, as plain values: a
//! command as `decide` sees it ([`CommandInput`]), a stored event as
//! reactions see it ([`EventView`]), and the command a config derives from
//! a stored event, by a reaction or an alarm firing ([`DerivedCommand`]),
//! with the hop count that bounds chains of them ([`MAX_HOPS`]), and the
//! command an outside event becomes through a binding ([`BoundCommand`]).

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

/// The command as rules and `decide_command` see it.
#[derive(Debug, Clone, Copy)]
pub struct CommandInput<'a> {
    /// The aggregate's type.
    pub aggregate_type: &'a str,
    /// The aggregate's id.
    pub aggregate_id: &'a str,
    /// The command's name.
    pub command: &'a str,
    /// The command's payload.
    pub payload: &'a Map<String, Value>,
    /// The command's metadata.
    pub metadata: &'a Map<String, Value>,
    /// Now, by the handler's clock: alarms set by the command are due
    /// relative to it.
    pub now: Timestamp,
}

/// A stored event as reactions see it: borrowed, nothing copied.
#[derive(Debug, Clone, Copy)]
pub struct EventView<'a> {
    /// The event's aggregate type.
    pub aggregate_type: &'a str,
    /// The event's aggregate id.
    pub aggregate_id: &'a str,
    /// The aggregate's version after the event.
    pub version: u64,
    /// The event's type.
    pub event_type: &'a str,
    /// The aggregate's state after the event.
    pub state: &'a str,
    /// The aggregate's data after the event.
    pub data: &'a Map<String, Value>,
    /// The command's payload.
    pub payload: &'a Map<String, Value>,
    /// The command's metadata.
    pub metadata: &'a Map<String, Value>,
    /// The id of the command that recorded the event.
    pub command_id: &'a str,
    /// The `version` of the config that recorded the event: reactions
    /// built from another config version get ids of their own
    /// ([`reaction_command_id`](crate::ids::reaction_command_id)).
    pub config_version: u64,
}

/// A built reaction. Serializes (camelCase) to exactly the command message
/// body of docs/reference.md §1: `{commandId, aggregateType, aggregateId,
/// command, payload, metadata}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DerivedCommand {
    /// Deterministic: `{pk}@{version}/{index}` (hashed when long).
    pub command_id: String,
    /// The target aggregate's type.
    pub aggregate_type: String,
    /// The target aggregate's id.
    pub aggregate_id: String,
    /// The command's name.
    pub command: String,
    /// The command's payload.
    pub payload: Map<String, Value>,
    /// `correlationId`, `causationId` and `hops`.
    pub metadata: Map<String, Value>,
}

/// The command an outside event becomes through a binding. Serializes
/// (camelCase) to exactly the command message body of docs/reference.md §1:
/// `{commandId, aggregateType, aggregateId, command, payload,
/// expectedVersion?, metadata}`, so the handler checks it as it checks any
/// command.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundCommand {
    /// Deterministic: `{source}/{id}` (hashed when long).
    pub command_id: String,
    /// The binding config's aggregate type.
    pub aggregate_type: String,
    /// The target aggregate's id.
    pub aggregate_id: String,
    /// The command's name.
    pub command: String,
    /// The command's payload.
    pub payload: Map<String, Value>,
    /// The version the aggregate must be at, when the binding asks one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<u64>,
    /// `correlationId`.
    pub metadata: Map<String, Value>,
}

/// The most reactions in one chain: a derived command carries `hops` (its
/// event's `hops` + 1; a command without it counts 0), and a reaction that
/// would carry more is not built.
pub const MAX_HOPS: u64 = 32;

/// `hops` in an event's metadata: 0 when absent or not a whole number.
pub(crate) fn hops_of(metadata: &Map<String, Value>) -> u64 {
    metadata.get("hops").and_then(Value::as_u64).unwrap_or(0)
}
