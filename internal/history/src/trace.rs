//! One correlation's events as JSON: what `cmdctl trace --json` prints and
//! what the HTTP API's `GET /traces/{id}` answers.

use handler_core::StoredEvent;
use serde_json::{Value, json};

/// `{correlationId, events: [...]}`, each event as `eventId`,
/// `aggregateType`, `aggregateId`, `version`, `eventType`, `state`,
/// `commandId`, `causationId` and `recordedAt`, in the order given (the
/// caller puts them in [`causal_order`](crate::causal_order)).
pub fn trace_json(correlation_id: &str, events: &[StoredEvent]) -> Value {
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "eventId": e.event_id(),
                "aggregateType": e.key.aggregate_type,
                "aggregateId": e.key.aggregate_id,
                "version": e.event.version,
                "eventType": e.event.event_type,
                "state": e.event.state,
                "commandId": e.event.command_id,
                "causationId": e.event.metadata.get("causationId"),
                "recordedAt": e.event.recorded_at,
            })
        })
        .collect();
    json!({ "correlationId": correlation_id, "events": rows })
}
