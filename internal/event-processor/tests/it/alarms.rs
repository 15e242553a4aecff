//! The third step: the alarms an event set and cleared, handed to the alarm
//! sink after its publication and reactions; a refused order holds the
//! aggregate's later events like a failed publish.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use event_processor::{
    AlarmCounts, AlarmDone, AlarmOrder, AlarmSink, DeliveryError, EventProcessor, Outcome,
};
use handler_core::StoredEvent;
use handler_core::state_machine::{Alarm, AlarmChanges, alarm_command};
use serde_json::Map;

use crate::fakes::{Processor, World, events, order};

/// Keeps the orders; refuses the alarms named in `refuse`
/// (`{type}#{id}/{name}@{version}`);
/// answers an arm due before `soon` as delayed, a later one as scheduled.
#[derive(Default)]
struct Alarming {
    orders: Mutex<Vec<AlarmOrder>>,
    refuse: Mutex<HashSet<String>>,
    calls: Mutex<usize>,
}

const SOON: &str = "2026-01-01T00:15:00Z";

#[async_trait]
impl AlarmSink for Alarming {
    async fn apply(&self, orders: &[AlarmOrder]) -> Vec<Result<AlarmDone, DeliveryError>> {
        *self.calls.lock().unwrap() += 1;
        let refuse = self.refuse.lock().unwrap();
        orders
            .iter()
            .map(|order| {
                let alarm = order.alarm();
                let id = format!("{}/{}@{}", order.key(), alarm.name, alarm.version);
                if refuse.contains(&id) {
                    return Err(DeliveryError::transient("refused"));
                }
                self.orders.lock().unwrap().push(order.clone());
                Ok(match order {
                    AlarmOrder::Arm { alarm, .. } if alarm.due <= SOON.parse().unwrap() => {
                        AlarmDone::Queued { delay_seconds: 60 }
                    }
                    AlarmOrder::Arm { .. } => AlarmDone::Scheduled,
                    AlarmOrder::Disarm { .. } => AlarmDone::Unscheduled,
                })
            })
            .collect()
    }
}

fn alarm(name: &str, version: u64, due: &str) -> Alarm {
    Alarm {
        name: name.to_owned(),
        due: due.parse().unwrap(),
        version,
        command: "Expire".to_owned(),
        payload: Map::new(),
        correlation_id: Some("flow-1".to_owned()),
        hops: 0,
    }
}

/// `order("o", version)` (recorded at 2026-01-01T00:00:00Z) with these changes.
fn with_alarms(id: &str, version: u64, set: Vec<Alarm>, cleared: Vec<Alarm>) -> StoredEvent {
    let mut stored = order(id, version);
    stored.event.alarms = Some(AlarmChanges { set, cleared });
    stored
}

fn world_with(sink: Arc<Alarming>) -> (World, Processor) {
    let world = World::new();
    let processor = EventProcessor::new(
        world.configs.clone(),
        world.bus.clone(),
        world.queue.clone(),
        world.failures.clone(),
        crate::fakes::clock(),
    )
    .with_alarms(sink);
    (world, processor)
}

#[tokio::test]
async fn set_alarms_are_armed_and_cleared_future_ones_disarmed_in_version_order() {
    let sink = Arc::new(Alarming::default());
    let (_world, processor) = world_with(sink.clone());
    let short = alarm("reminder", 1, "2026-01-01T00:05:00Z");
    let long = alarm("expiry", 1, "2027-01-01T00:00:00Z");
    // v2 clears the reminder (due after v2 was recorded: withdrawn) and
    // consumes a fired one (due before: nothing to withdraw).
    let fired = alarm("nudge", 1, "2025-12-31T23:59:00Z");
    let report = processor
        .process(events(vec![
            with_alarms("o-1", 2, vec![], vec![short.clone(), fired]),
            with_alarms("o-1", 1, vec![short.clone(), long.clone()], vec![]),
            order("o-2", 1),
        ]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    // One call per wave: o-1@1 beside o-2@1, then o-1@2.
    assert_eq!(*sink.calls.lock().unwrap(), 2, "one call per wave");
    let orders = sink.orders.lock().unwrap().clone();
    let key = handler_core::AggregateKey::new("order", "o-1");
    assert_eq!(
        orders,
        [
            AlarmOrder::Arm {
                key: key.clone(),
                alarm: short.clone(),
                command: alarm_command("order", "o-1", &short),
            },
            AlarmOrder::Arm {
                key: key.clone(),
                alarm: long.clone(),
                command: alarm_command("order", "o-1", &long),
            },
            AlarmOrder::Disarm {
                key,
                alarm: short.clone(),
            },
        ]
    );
    // Counted per event, in input order, and over the batch.
    assert_eq!(
        report.outcomes[1].alarms,
        AlarmCounts {
            delayed: 1,
            scheduled: 1,
            ..AlarmCounts::default()
        }
    );
    assert_eq!(
        report.outcomes[0].alarms,
        AlarmCounts {
            unscheduled: 1,
            ..AlarmCounts::default()
        }
    );
    assert!(report.outcomes[2].alarms.is_empty());
    assert_eq!(
        report.alarms().to_string(),
        "0 sent, 1 delayed, 1 scheduled, 1 unscheduled"
    );
}

#[tokio::test]
async fn a_refused_alarm_holds_its_aggregates_later_events_like_a_failed_publish() {
    let sink = Arc::new(Alarming::default());
    sink.refuse
        .lock()
        .unwrap()
        .insert("order#o-1/expiry@1".into());
    let (world, processor) = world_with(sink.clone());
    let expiry = alarm("expiry", 1, "2027-01-01T00:00:00Z");
    let other = alarm("expiry", 1, "2027-01-01T00:00:00Z");
    let report = processor
        .process(events(vec![
            with_alarms("o-1", 1, vec![expiry], vec![]),
            with_alarms("o-1", 2, vec![alarm("reminder", 2, SOON)], vec![]),
            with_alarms("o-2", 1, vec![other], vec![]),
        ]))
        .await;
    let Outcome::Unfinished { reason } = &report.outcomes[0].outcome else {
        panic!("{report:?}")
    };
    assert_eq!(reason, "alarm not delivered: refused");
    assert_eq!(report.outcomes[1].outcome, Outcome::Held);
    assert_eq!(
        report.outcomes[2].outcome,
        Outcome::Done,
        "other aggregates go on"
    );
    assert_eq!(report.outcomes[2].alarms.scheduled, 1);
    assert_eq!(report.first_unfinished.as_deref(), Some("p0"));
    // Per-aggregate order (issue 20 item 10): o-1@2 comes in the second
    // wave, after o-1@1 was left unfinished, so its reminder was never
    // handed over ahead of the earlier event.
    assert!(
        !sink
            .orders
            .lock()
            .unwrap()
            .iter()
            .any(|o| o.alarm().name == "reminder")
    );
    // The reactions of the unfinished event were sent before its alarms
    // (they are idempotent: sent again on the retry).
    assert!(world.sent_ids().contains(&"order#o-1@1/0".to_owned()));
}

#[tokio::test]
async fn an_unpublished_event_hands_over_no_alarm() {
    let sink = Arc::new(Alarming::default());
    let (world, processor) = world_with(sink.clone());
    world
        .bus
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-1@1".into());
    let report = processor
        .process(events(vec![with_alarms(
            "o-1",
            1,
            vec![alarm("expiry", 1, "2027-01-01T00:00:00Z")],
            vec![],
        )]))
        .await;
    assert!(matches!(
        report.outcomes[0].outcome,
        Outcome::Unfinished { .. }
    ));
    assert_eq!(*sink.calls.lock().unwrap(), 0, "no orders, no call");
}

#[tokio::test]
async fn by_default_alarms_are_kept_by_the_store_and_nothing_is_counted() {
    let world = World::new();
    let report = world
        .processor
        .process(events(vec![with_alarms(
            "o-1",
            1,
            vec![alarm("expiry", 1, "2027-01-01T00:00:00Z")],
            vec![],
        )]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert!(report.alarms().is_empty());
}

#[tokio::test]
async fn the_alarm_an_event_is_the_firing_of_is_never_withdrawn() {
    let sink = Arc::new(Alarming::default());
    let (_world, processor) = world_with(sink.clone());
    // Delivered a moment before its due time (a delay counts whole
    // seconds): its event clears it while it is still "in the future".
    let ring = alarm("ring", 1, "2026-01-01T00:00:01Z");
    let other = alarm("other", 1, "2026-01-01T01:00:00Z");
    let mut firing = with_alarms("o-1", 2, vec![], vec![ring.clone(), other.clone()]);
    firing.event.metadata = alarm_command("order", "o-1", &ring).metadata;
    let report = processor.process(events(vec![firing])).await;
    assert!(report.all_finished(), "{report:?}");
    let orders = sink.orders.lock().unwrap().clone();
    assert_eq!(
        orders,
        [AlarmOrder::Disarm {
            key: handler_core::AggregateKey::new("order", "o-1"),
            alarm: other,
        }],
        "only the other cleared alarm is withdrawn"
    );
}

#[tokio::test]
async fn an_event_of_a_type_without_config_still_arms_its_alarms() {
    // Issue 20 item 12: alarms need no config; before, such an event was
    // finished (`no_config`) before its alarms were handed over.
    let sink = Arc::new(Alarming::default());
    let (_world, processor) = world_with(sink.clone());
    let expiry = alarm("expiry", 1, "2027-01-01T00:00:00Z");
    let mut ghost = with_alarms("o-1", 1, vec![expiry.clone()], vec![]);
    ghost.key = handler_core::AggregateKey::new("ghost", "o-1");
    let report = processor.process(events(vec![ghost])).await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(report.outcomes[0].outcome, Outcome::NoConfig);
    assert_eq!(report.outcomes[0].alarms.scheduled, 1);
    let orders = sink.orders.lock().unwrap().clone();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].alarm(), &expiry);
}
