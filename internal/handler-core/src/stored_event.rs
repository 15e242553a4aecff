//! A stored event with where it belongs: what the event processor and the
//! event feeds hand around.

use serde_json::{Map, Value};
use state_machine::EventView;

use crate::model::{AggregateKey, Event};

/// One stored event with its aggregate and the aggregate's data after it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The aggregate the event belongs to.
    pub key: AggregateKey,
    /// The event.
    pub event: Event,
    /// The aggregate's data after the event.
    pub data: Map<String, Value>,
}

impl StoredEvent {
    /// The event's id in logs, failure records and publications: `{pk}@{version}`.
    pub fn event_id(&self) -> String {
        state_machine::ids::event_id(
            &self.key.aggregate_type,
            &self.key.aggregate_id,
            self.event.version,
        )
    }

    /// The event as reactions see it.
    pub fn view(&self) -> EventView<'_> {
        EventView {
            aggregate_type: &self.key.aggregate_type,
            aggregate_id: &self.key.aggregate_id,
            version: self.event.version,
            event_type: &self.event.event_type,
            state: &self.event.state,
            data: &self.data,
            payload: &self.event.payload,
            metadata: &self.event.metadata,
            command_id: &self.event.command_id,
            config_version: self.event.config_version,
        }
    }
}
