//! What is published for one event.

use handler_core::StoredEvent;
use serde::Serialize;
use serde_json::{Map, Value};

/// One event to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Publication {
    /// `{pk}@{version}`, also in the detail: consumers deduplicate by it.
    pub event_id: String,
    /// `command-handler.{aggregateType}`.
    pub source: String,
    /// The event's type.
    pub detail_type: String,
    /// JSON text: the stored event (`aggregateType`, `aggregateId`,
    /// `version`, `eventType`, `state`, `payload`, `metadata`, `commandId`,
    /// `recordedAt`, `configVersion`) and `eventId`.
    pub detail: String,
}

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

impl Publication {
    /// The publication of a stored event.
    pub fn of(stored: &StoredEvent) -> Publication {
        let event_id = stored.event_id();
        let event = &stored.event;
        let detail = Detail {
            event_id: &event_id,
            aggregate_type: &stored.key.aggregate_type,
            aggregate_id: &stored.key.aggregate_id,
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
        let detail = serde_json::to_string(&detail).unwrap_or_default();
        Publication {
            source: format!("command-handler.{}", stored.key.aggregate_type),
            detail_type: event.event_type.clone(),
            event_id,
            detail,
        }
    }
}
