//! What the event processor publishes for one stored event, and its size as
//! the bus counts it: shared by the processor (which builds the entry) and
//! the handler (which refuses, before storing it, an event of a type that
//! publishes whose entry could never be accepted).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::model::{AggregateKey, Event};

/// The largest entry the bus (EventBridge `PutEvents`) takes, in bytes:
/// 256 KiB, counted as `Source` + `DetailType` + `Detail` in UTF-8 (no
/// `Time` and no `Resources` are sent).
pub const PUBLICATION_LIMIT_BYTES: usize = 256 * 1024;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    event_id: &'a str,
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    version: u64,
    event_type: &'a str,
    state: &'a str,
    payload: &'a Map<String, Value>,
    metadata: &'a Map<String, Value>,
    command_id: &'a str,
    recorded_at: &'a str,
    config_version: u64,
}

/// The entry's `Source`: `command-handler.{aggregateType}`.
pub fn source(key: &AggregateKey) -> String {
    format!("command-handler.{}", key.aggregate_type)
}

/// The entry's `Detail`: the stored event (`aggregateType`, `aggregateId`,
/// `version`, `eventType`, `state`, `payload`, `metadata`, `commandId`,
/// `recordedAt`, `configVersion`) and its `eventId`, as JSON text.
pub fn detail(key: &AggregateKey, event: &Event) -> String {
    let event_id =
        state_machine::ids::event_id(&key.aggregate_type, &key.aggregate_id, event.version);
    let detail = Detail {
        event_id: &event_id,
        aggregate_type: &key.aggregate_type,
        aggregate_id: &key.aggregate_id,
        version: event.version,
        event_type: &event.event_type,
        state: &event.state,
        payload: &event.payload,
        metadata: &event.metadata,
        command_id: &event.command_id,
        recorded_at: &event.recorded_at,
        config_version: event.config_version,
    };
    // Strings, numbers and JSON maps always serialize.
    serde_json::to_string(&detail).unwrap_or_default()
}

/// The size of the event's entry as the bus counts it: `Source`,
/// `DetailType` (the event's type) and `Detail`, in UTF-8 bytes.
pub fn entry_bytes(key: &AggregateKey, event: &Event) -> usize {
    source(key).len() + event.event_type.len() + detail(key, event).len()
}
