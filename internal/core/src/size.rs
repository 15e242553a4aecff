//! Estimates of stored item sizes, by DynamoDB's rule (attribute names plus
//! values), so that a command whose event or head would not fit one item is
//! refused on its own before anything is written.

use serde_json::{Map, Value};
use state_machine::AggregateState;

use crate::model::{AggregateKey, Event};

/// Fixed allowance for numbers, type tags and attribute names.
const OVERHEAD: usize = 256;

/// Estimated bytes of an event's item.
pub fn event_item_bytes(key: &AggregateKey, event: &Event) -> usize {
    OVERHEAD
        + key_bytes(key)
        + event.event_type.len()
        + event.state.len()
        + json_bytes(&event.payload)
        + event.command_id.len()
        + json_bytes(&event.metadata)
        + event.recorded_at.len()
}

/// Estimated bytes of an aggregate's head (snapshot) item.
pub fn head_item_bytes(key: &AggregateKey, head: &AggregateState) -> usize {
    OVERHEAD + key_bytes(key) + head.state.len() + json_bytes(&head.data)
}

/// Estimated bytes of a command's idempotency record.
pub fn record_bytes(key: &AggregateKey, command_id: &str) -> usize {
    OVERHEAD + key_bytes(key) + 2 * command_id.len() + 64
}

fn key_bytes(key: &AggregateKey) -> usize {
    key.aggregate_type.len() + 1 + key.aggregate_id.len()
}

fn json_bytes(map: &Map<String, Value>) -> usize {
    serde_json::to_string(map).map_or(usize::MAX / 4, |s| s.len())
}
