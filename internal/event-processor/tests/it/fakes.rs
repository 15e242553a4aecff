//! The processor over the shared in-memory doubles (`test-doubles`): the
//! configs of these tests, a world of handles on its adapters, and events
//! to feed it.

use std::sync::Arc;

use event_processor::{EventProcessor, RecordBody, SourceRecord};
use handler_core::state_machine::StateMachine;
use handler_core::{AggregateKey, Clock, Event, FixedClock, StoredEvent};
use serde_json::{Map, Value, json};
use test_doubles::{Bus, MemoryConfigs, MemoryFailures, Queue};

/// `order` publishes and reacts (an inventory reservation and a note to
/// itself); `inventory` neither.
pub(crate) fn order_config() -> Value {
    json!({
      "aggregateType": "order", "version": 1, "initialState": "New", "publish": true,
      "states": ["New", "Created", "Paid"],
      "transitions": [
        { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
          "then": [
            { "aggregateType": "inventory", "aggregateId": {"var": "payload.itemId"}, "command": "Reserve",
              "payload": {"orderId": {"var": "aggregateId"}} },
            { "command": "Note" } ] },
        { "command": "Pay", "from": ["Created", "Paid"], "to": "Paid", "event": "OrderPaid",
          "then": [ { "command": "Ship" } ] }
      ]
    })
}

fn inventory_config() -> Value {
    json!({
      "aggregateType": "inventory", "version": 1, "initialState": "Free",
      "states": ["Free", "Held"],
      "transitions": [ { "command": "Reserve", "from": ["Free"], "to": "Held", "event": "Reserved" } ]
    })
}

/// The configs: `order` and `inventory`.
pub(crate) fn standard_configs() -> MemoryConfigs {
    MemoryConfigs::of([order_config(), inventory_config()].map(|config| {
        Arc::new(StateMachine::from_json(&serde_json::to_vec(&config).unwrap()).unwrap())
    }))
}

/// What the processors' clock reads: the `failedAt` of every failure record.
pub(crate) const NOW: &str = "2026-02-03T04:05:06.789Z";

/// A clock that reads [`NOW`].
pub(crate) fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(NOW.parse().unwrap()))
}

pub(crate) type Processor =
    EventProcessor<Arc<MemoryConfigs>, Arc<Bus>, Arc<Queue>, Arc<MemoryFailures>>;

/// A processor and handles on its adapters.
pub(crate) struct World {
    pub(crate) configs: Arc<MemoryConfigs>,
    pub(crate) bus: Arc<Bus>,
    pub(crate) queue: Arc<Queue>,
    pub(crate) failures: Arc<MemoryFailures>,
    pub(crate) processor: Processor,
}

impl World {
    pub(crate) fn new() -> Self {
        Self::with(standard_configs())
    }

    pub(crate) fn with(configs: MemoryConfigs) -> Self {
        let (configs, bus, queue, failures) = (
            Arc::new(configs),
            Arc::new(Bus::default()),
            Arc::new(Queue::default()),
            Arc::new(MemoryFailures::default()),
        );
        let processor = EventProcessor::new(
            configs.clone(),
            bus.clone(),
            queue.clone(),
            failures.clone(),
            clock(),
        );
        World {
            configs,
            bus,
            queue,
            failures,
            processor,
        }
    }

    pub(crate) fn sent_ids(&self) -> Vec<String> {
        self.queue
            .kept
            .lock()
            .unwrap()
            .iter()
            .map(|c| c.command_id.clone())
            .collect()
    }

    pub(crate) fn published_ids(&self) -> Vec<String> {
        self.bus
            .kept
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.event_id.clone())
            .collect()
    }
}

/// Event `version` of `order#{id}`: v1 created (item `sku-{id}`), later ones paid.
pub(crate) fn order(id: &str, version: u64) -> StoredEvent {
    let (event_type, state) = if version == 1 {
        ("OrderCreated", "Created")
    } else {
        ("OrderPaid", "Paid")
    };
    stored(
        "order",
        id,
        version,
        event_type,
        state,
        json!({"itemId": format!("sku-{id}")}),
    )
}

pub(crate) fn stored(
    t: &str,
    id: &str,
    version: u64,
    event_type: &str,
    state: &str,
    payload: Value,
) -> StoredEvent {
    let payload: Map<String, Value> = payload.as_object().cloned().unwrap_or_default();
    StoredEvent {
        key: AggregateKey::new(t, id),
        data: payload.clone(),
        event: Event {
            alarms: None,
            version,
            event_type: event_type.to_owned(),
            state: state.to_owned(),
            payload,
            command_id: format!("c-{id}-{version}"),
            metadata: Map::new(),
            recorded_at: "2026-01-01T00:00:00.000Z".to_owned(),
            config_version: 1,
        },
    }
}

/// Records at positions `p0`, `p1`, ... in the order given.
pub(crate) fn records(bodies: Vec<RecordBody>) -> Vec<SourceRecord> {
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| SourceRecord {
            position: format!("p{i}"),
            body,
        })
        .collect()
}

pub(crate) fn events(events: Vec<StoredEvent>) -> Vec<SourceRecord> {
    records(events.into_iter().map(RecordBody::Event).collect())
}
