//! In-memory adapters: configs, a publisher and a sink that refuse what they
//! are told to, a failure log that can be down, and events to feed them.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use event_processor::{
    CommandSink, DeliveryError, EventProcessor, Publication, Publisher, RecordBody, SourceRecord,
};
use handler_core::state_machine::{ReactionCommand, StateMachine};
use handler_core::{
    AggregateKey, Clock, ConfigSource, ConfigSourceError, Event, FailureLog, FailureRecord,
    FixedClock, StoreError, StoredEvent, StoredFailure,
};
use serde_json::{Map, Value, json};

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

#[derive(Default)]
pub(crate) struct Configs {
    machines: HashMap<String, Arc<StateMachine>>,
    /// Types whose config cannot be read now.
    pub(crate) down: Mutex<HashSet<String>>,
}

impl Configs {
    pub(crate) fn standard() -> Self {
        let mut configs = Configs::default();
        for config in [order_config(), inventory_config()] {
            let machine = StateMachine::from_json(&serde_json::to_vec(&config).unwrap()).unwrap();
            configs
                .machines
                .insert(machine.aggregate_type().to_owned(), Arc::new(machine));
        }
        configs
    }
}

#[async_trait]
impl ConfigSource for Configs {
    async fn state_machine(&self, t: &str) -> Result<Arc<StateMachine>, ConfigSourceError> {
        if self.down.lock().unwrap().contains(t) {
            return Err(ConfigSourceError::Unavailable("down".into()));
        }
        self.machines
            .get(t)
            .cloned()
            .ok_or(ConfigSourceError::NotFound {
                aggregate_type: t.to_owned(),
                location: "memory".into(),
            })
    }
}

/// Keeps what it accepts, refuses the ids in `refuse`, counts its calls.
pub(crate) struct Accepting<T> {
    pub(crate) kept: Mutex<Vec<T>>,
    pub(crate) refuse: Mutex<HashSet<String>>,
    /// Ids refused for good (a permanent refusal).
    pub(crate) refuse_for_good: Mutex<HashSet<String>>,
    /// Every id offered, accepted or not, in the order offered.
    pub(crate) offered: Mutex<Vec<String>>,
    pub(crate) calls: Mutex<usize>,
}

impl<T> Default for Accepting<T> {
    fn default() -> Self {
        Self {
            kept: Mutex::default(),
            refuse: Mutex::default(),
            refuse_for_good: Mutex::default(),
            offered: Mutex::default(),
            calls: Mutex::default(),
        }
    }
}

impl<T: Clone> Accepting<T> {
    fn accept(&self, items: &[T], id: impl Fn(&T) -> &str) -> Vec<Result<(), DeliveryError>> {
        *self.calls.lock().unwrap() += 1;
        let refuse = self.refuse.lock().unwrap();
        items
            .iter()
            .map(|item| {
                self.offered.lock().unwrap().push(id(item).to_owned());
                if refuse.contains(id(item)) {
                    return Err(DeliveryError::transient("refused"));
                }
                if self.refuse_for_good.lock().unwrap().contains(id(item)) {
                    return Err(DeliveryError::permanent("too large for good"));
                }
                self.kept.lock().unwrap().push(item.clone());
                Ok(())
            })
            .collect()
    }
}

/// The bus: refuses by event id.
pub(crate) type Bus = Accepting<Publication>;

#[async_trait]
impl Publisher for Bus {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        self.accept(items, |p| &p.event_id)
    }
}

/// The command queue: refuses by command id.
pub(crate) type Queue = Accepting<ReactionCommand>;

#[async_trait]
impl CommandSink for Queue {
    async fn send(&self, commands: &[ReactionCommand]) -> Vec<Result<(), DeliveryError>> {
        self.accept(commands, |c| &c.command_id)
    }
}

/// Keeps the failures; refuses every write while `down`.
#[derive(Default)]
pub(crate) struct Failures {
    pub(crate) recorded: Mutex<Vec<FailureRecord>>,
    pub(crate) down: Mutex<bool>,
}

#[async_trait]
impl FailureLog for Failures {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        if *self.down.lock().unwrap() {
            return Err(StoreError::Unavailable("down".into()));
        }
        self.recorded.lock().unwrap().extend_from_slice(failures);
        Ok(())
    }
    async fn failure(&self, _message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        Ok(None)
    }
}

/// What the processors' clock reads: the `failedAt` of every failure record.
pub(crate) const NOW: &str = "2026-02-03T04:05:06.789Z";

/// A clock that reads [`NOW`].
pub(crate) fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(NOW.parse().unwrap()))
}

pub(crate) type Processor = EventProcessor<Arc<Configs>, Arc<Bus>, Arc<Queue>, Arc<Failures>>;

/// A processor and handles on its adapters.
pub(crate) struct World {
    pub(crate) configs: Arc<Configs>,
    pub(crate) bus: Arc<Bus>,
    pub(crate) queue: Arc<Queue>,
    pub(crate) failures: Arc<Failures>,
    pub(crate) processor: Processor,
}

impl World {
    pub(crate) fn new() -> Self {
        Self::with(Configs::standard())
    }

    pub(crate) fn with(configs: Configs) -> Self {
        let (configs, bus, queue, failures) = (
            Arc::new(configs),
            Arc::new(Bus::default()),
            Arc::new(Queue::default()),
            Arc::new(Failures::default()),
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
