//! What is published for one event.

use handler_core::{StoredEvent, publication};

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

impl Publication {
    /// The publication of a stored event.
    pub fn of(stored: &StoredEvent) -> Publication {
        Publication {
            event_id: stored.event_id(),
            source: publication::source(&stored.key),
            detail_type: stored.event.event_type.clone(),
            detail: publication::detail(&stored.key, &stored.event),
        }
    }
}
