//! The pending alarms follow the appended events: set, due, cleared,
//! replaced, delivered; and the head and events keep them.

use handler_core::state_machine::{Alarm, AlarmChanges, Timestamp};
use handler_core::{AggregateKey, EventStore};
use serde_json::Map;

use crate::SqliteStore;
use crate::tests::one_event;

fn at(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

fn alarm(name: &str, version: u64, due: &str) -> Alarm {
    Alarm {
        name: name.to_owned(),
        due: at(due),
        version,
        command: format!("{name}-command"),
        payload: Map::new(),
        correlation_id: Some("flow".to_owned()),
        hops: 0,
    }
}

/// Appends the next one-event commit of `key` with these alarm changes; the
/// head's alarms follow them.
async fn append(store: &SqliteStore, key: &AggregateKey, set: Vec<Alarm>, cleared: Vec<Alarm>) {
    let loaded = store.load(key, &[]).await.expect("load").head;
    let version = loaded.as_ref().map_or(0, |h| h.version);
    let mut commit = one_event::commit(key, version);
    let changes = AlarmChanges { set, cleared };
    let mut alarms = loaded.map(|h| h.alarms).unwrap_or_default();
    for gone in &changes.cleared {
        alarms.remove(&gone.name);
    }
    for new in &changes.set {
        alarms.insert(new.name.clone(), new.clone());
    }
    commit.head.alarms = alarms;
    commit.events[0].alarms = (!changes.is_empty()).then_some(changes);
    store.append(&commit).await.expect("append");
}

fn names(due: &[(AggregateKey, Alarm)]) -> Vec<(String, String, u64)> {
    due.iter()
        .map(|(key, a)| (key.aggregate_id.clone(), a.name.clone(), a.version))
        .collect()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn an_alarm_set_is_due_at_its_time_and_kept_by_head_and_event() {
    block_on(async {
        let store = SqliteStore::in_memory().expect("store");
        let key = AggregateKey::new("payment", "p-1");
        let timeout = alarm("payment-timeout", 1, "2030-01-01T00:15:00Z");
        append(&store, &key, vec![timeout.clone()], vec![]).await;

        assert!(
            store
                .due_alarms(at("2030-01-01T00:14:59Z"), 10)
                .unwrap()
                .is_empty()
        );
        let due = store.due_alarms(at("2030-01-01T00:15:00Z"), 10).unwrap();
        assert_eq!(due, vec![(key.clone(), timeout.clone())]);

        let head = store.load(&key, &[]).await.unwrap().head.unwrap();
        assert_eq!(head.alarms.get("payment-timeout"), Some(&timeout));
        let events = store.events(&key, 0, 10).await.unwrap();
        assert_eq!(events[0].alarms.as_ref().unwrap().set, vec![timeout]);
    });
}

#[test]
fn cleared_and_replaced_alarms_are_no_longer_due() {
    block_on(async {
        let store = SqliteStore::in_memory().expect("store");
        let key = AggregateKey::new("payment", "p-2");
        let first = alarm("reminder", 1, "2030-01-01T00:00:00Z");
        let other = alarm("payment-timeout", 1, "2030-01-01T00:00:00Z");
        append(&store, &key, vec![first.clone(), other.clone()], vec![]).await;
        // Version 2 sets `reminder` again (replacing version 1's) and
        // clears the timeout.
        let second = alarm("reminder", 2, "2031-01-01T00:00:00Z");
        append(&store, &key, vec![second.clone()], vec![first, other]).await;

        let late = at("2032-01-01T00:00:00Z");
        assert_eq!(
            names(&store.due_alarms(late, 10).unwrap()),
            [("p-2".to_owned(), "reminder".to_owned(), 2)]
        );
        let head = store.load(&key, &[]).await.unwrap().head.unwrap();
        assert_eq!(head.alarms.len(), 1);
        // An event that changes no alarm leaves them as they are.
        append(&store, &key, vec![], vec![]).await;
        assert_eq!(store.due_alarms(late, 10).unwrap().len(), 1);
        let head = store.load(&key, &[]).await.unwrap().head.unwrap();
        assert_eq!(head.alarms.get("reminder"), Some(&second));
        assert_eq!(store.events(&key, 2, 10).await.unwrap()[0].alarms, None);
    });
}

#[test]
fn delivered_alarms_are_removed_by_their_version_only() {
    block_on(async {
        let store = SqliteStore::in_memory().expect("store");
        let key = AggregateKey::new("payment", "p-3");
        append(
            &store,
            &key,
            vec![alarm("a", 1, "2030-01-01T00:00:00Z")],
            vec![],
        )
        .await;
        let late = at("2030-06-01T00:00:00Z");
        store.alarm_delivered(&key, "a", 7).unwrap();
        assert_eq!(
            store.due_alarms(late, 10).unwrap().len(),
            1,
            "another version"
        );
        store.alarm_delivered(&key, "b", 1).unwrap();
        assert_eq!(store.due_alarms(late, 10).unwrap().len(), 1, "another name");
        store.alarm_delivered(&key, "a", 1).unwrap();
        assert!(store.due_alarms(late, 10).unwrap().is_empty());
        store
            .alarm_delivered(&key, "a", 1)
            .expect("twice is no error");
        // Delivered is not consumed: the head still has it until an event
        // clears it.
        let head = store.load(&key, &[]).await.unwrap().head.unwrap();
        assert!(head.alarms.contains_key("a"));
    });
}

#[test]
fn due_alarms_come_earliest_first_up_to_the_limit() {
    block_on(async {
        let store = SqliteStore::in_memory().expect("store");
        let a = AggregateKey::new("payment", "a");
        let b = AggregateKey::new("payment", "b");
        append(
            &store,
            &a,
            vec![alarm("late", 1, "2030-01-03T00:00:00Z")],
            vec![],
        )
        .await;
        append(
            &store,
            &b,
            vec![alarm("soon", 1, "2030-01-01T00:00:00Z")],
            vec![],
        )
        .await;
        append(
            &store,
            &a,
            vec![alarm("mid", 2, "2030-01-02T00:00:00Z")],
            vec![],
        )
        .await;
        let all = at("2030-02-01T00:00:00Z");
        assert_eq!(
            names(&store.due_alarms(all, 10).unwrap()),
            [
                ("b".to_owned(), "soon".to_owned(), 1),
                ("a".to_owned(), "mid".to_owned(), 2),
                ("a".to_owned(), "late".to_owned(), 1),
            ]
        );
        assert_eq!(store.due_alarms(all, 2).unwrap().len(), 2);
        assert_eq!(
            names(&store.due_alarms(at("2030-01-02T00:00:00Z"), 10).unwrap()).len(),
            2
        );
    });
}

/// A commit refused as a conflict changes no pending alarm.
#[test]
fn a_refused_append_sets_no_alarm() {
    block_on(async {
        let store = SqliteStore::in_memory().expect("store");
        let key = AggregateKey::new("payment", "p-4");
        append(&store, &key, vec![], vec![]).await;
        let mut stale = one_event::commit(&key, 0);
        stale.events[0].alarms = Some(AlarmChanges {
            set: vec![alarm("x", 1, "2030-01-01T00:00:00Z")],
            cleared: vec![],
        });
        store.append(&stale).await.expect_err("a conflict");
        assert!(
            store
                .due_alarms(at("2031-01-01T00:00:00Z"), 10)
                .unwrap()
                .is_empty()
        );
    });
}
