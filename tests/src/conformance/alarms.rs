//! Alarms survive a store: an event's alarm changes come back with the
//! event, and the head's alarms with the head (docs/alarms.md).

use handler_core::state_machine::{Alarm, AlarmChanges};
use handler_core::{EventStore, all_events};
use serde_json::{Map, json};

use super::{commit_of, key};

fn alarm(name: &str, version: u64, due: &str) -> Alarm {
    let mut payload = Map::new();
    payload.insert("reason".to_owned(), json!("timed out"));
    Alarm {
        name: name.to_owned(),
        due: due.parse().expect("a timestamp"),
        version,
        command: "TimeOut".to_owned(),
        payload,
        correlation_id: Some("flow-1".to_owned()),
        hops: 0,
    }
}

/// A commit of two events (the first sets two alarms, the second replaces
/// one of them) and then one of no alarm change: `load` gives the head's
/// alarms, `events` each event's changes (none on the third).
pub async fn alarms_survive_an_append<S: EventStore>(store: &S) {
    let key = key("alarms");
    let mut first = commit_of(&key, None, 2, "alarms");
    let timeout = alarm("payment-timeout", 1, "2030-01-01T00:15:00Z");
    let expiry = alarm("expiry", 1, "2031-01-01T00:00:00Z");
    let renewed = alarm("expiry", 2, "2031-01-02T00:00:00Z");
    first.events[0].alarms = Some(AlarmChanges {
        set: vec![timeout.clone(), expiry.clone()],
        cleared: vec![],
    });
    first.events[1].alarms = Some(AlarmChanges {
        set: vec![renewed.clone()],
        cleared: vec![expiry],
    });
    first.head.alarms = [timeout.clone(), renewed.clone()]
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect();
    store.append(&first).await.expect("append with alarms");

    let head = store.load(&key, &[]).await.expect("load").head;
    assert_eq!(
        head.as_ref(),
        Some(&first.head),
        "the head keeps its alarms"
    );
    assert_eq!(head.as_ref().map(|h| h.alarms.len()), Some(2));

    let second = commit_of(&key, Some(&first.head), 1, "no-alarms");
    assert_eq!(second.head.alarms, first.head.alarms, "carried over");
    store.append(&second).await.expect("append");
    let head = store.load(&key, &[]).await.expect("load").head;
    assert_eq!(head.as_ref(), Some(&second.head));

    let events = all_events(store, &key).await.expect("events");
    assert_eq!(events[..2], first.events[..], "alarm changes read back");
    assert_eq!(events[2].alarms, None, "an event with no change has none");
}
