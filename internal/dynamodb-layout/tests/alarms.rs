//! Alarms in the layout: each event's `alarms` (what it changed) and the
//! head's `alarmState` (on the last item of an append only) are written,
//! sized exactly as written, and read back; a broken one is named.

use std::borrow::Cow;

use dynamodb_layout::items::{AttrValue, attr, commit_items};
use dynamodb_layout::read::{self, ItemAttributes};
use dynamodb_layout::{DynamoLayout, size};
use handler_core::state_machine::{AggregateState, Alarm, AlarmChanges, Alarms};
use handler_core::{AggregateKey, CommandRecord, Commit, CommitSizing, Event};
use serde_json::{Map, json};

/// An item as the layout wrote it, owned, numbers as text.
struct Item(Vec<(&'static str, String, bool)>);

impl Item {
    fn of(attributes: Vec<(&'static str, AttrValue<'_>)>) -> Self {
        Item(
            attributes
                .into_iter()
                .map(|(name, value)| match value {
                    AttrValue::S(text) => (name, Cow::into_owned(text), true),
                    AttrValue::N(n) => (name, n.to_string(), false),
                })
                .collect(),
        )
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _, _)| *n == name)
    }
}

impl ItemAttributes for Item {
    fn string(&self, name: &str) -> Option<&str> {
        let (_, v, _) = self.0.iter().find(|(n, _, s)| *n == name && *s)?;
        Some(v)
    }
    fn number(&self, name: &str) -> Option<&str> {
        let (_, v, _) = self.0.iter().find(|(n, _, s)| *n == name && !*s)?;
        Some(v)
    }
}

fn alarm(name: &str, due: &str, version: u64) -> Alarm {
    Alarm {
        name: name.into(),
        due: due.parse().unwrap(),
        version,
        command: "Expire".into(),
        payload: json!({"why": "timeout"}).as_object().cloned().unwrap(),
        correlation_id: Some("flow-1".into()),
        hops: 0,
    }
}

fn event(version: u64, alarms: Option<AlarmChanges>) -> Event {
    Event {
        version,
        event_type: "Touched".into(),
        state: "Open".into(),
        payload: Map::new(),
        command_id: format!("c-{version}"),
        metadata: Map::new(),
        recorded_at: "2026-11-30T12:00:00.000Z".into(),
        config_version: 1,
        alarms,
    }
}

/// Three events of one append: v1 sets `expiry` and `reminder`, v2 changes
/// nothing, v3 clears `reminder`; `expiry` is left.
fn commit() -> Commit {
    let key = AggregateKey::new("ticket", "t-1");
    let expiry = alarm("expiry", "2027-11-30T12:00:00Z", 1);
    let reminder = alarm("reminder", "2026-11-30T12:10:00Z", 1);
    let events = vec![
        event(
            1,
            Some(AlarmChanges {
                set: vec![expiry.clone(), reminder.clone()],
                cleared: vec![],
            }),
        ),
        event(2, None),
        event(
            3,
            Some(AlarmChanges {
                set: vec![],
                cleared: vec![reminder],
            }),
        ),
    ];
    let commands = events
        .iter()
        .map(|e| CommandRecord {
            command_id: e.command_id.clone(),
            key: key.clone(),
            fingerprint: "f".into(),
            version: e.version,
        })
        .collect();
    Commit {
        key,
        expected_version: 0,
        data_after: vec![Map::new(); 3],
        commands,
        head: AggregateState {
            state: "Open".into(),
            version: 3,
            data: Map::new(),
            alarms: Alarms::from([("expiry".to_owned(), expiry)]),
        },
        events,
    }
}

#[test]
fn alarm_changes_and_the_heads_alarms_read_back_from_the_items_written() {
    let commit = commit();
    let items: Vec<Item> = commit_items(&commit).into_iter().map(Item::of).collect();
    assert_eq!(items.len(), 3);
    for (item, written) in items.iter().zip(&commit.events) {
        assert_eq!(&read::event(item).unwrap(), written);
        assert_eq!(item.has(attr::ALARMS), written.alarms.is_some());
    }
    // Only the last item holds the aggregate's alarms; the head is the last.
    assert!(!items[0].has(attr::ALARM_STATE) && !items[1].has(attr::ALARM_STATE));
    assert_eq!(read::head(&items[2]).unwrap(), commit.head);
    assert!(read::head(&items[0]).unwrap().alarms.is_empty());

    // No alarms set after the append: no `alarmState` at all.
    let mut quiet = commit.clone();
    quiet.head.alarms.clear();
    let items: Vec<Item> = commit_items(&quiet).into_iter().map(Item::of).collect();
    assert!(!items[2].has(attr::ALARM_STATE));
    assert!(read::head(&items[2]).unwrap().alarms.is_empty());
}

#[test]
fn the_layout_counts_the_alarms_as_written() {
    let commit = commit();
    let written = size::commit_item_bytes(&commit);
    let state_bytes = size::alarm_state_bytes(&commit.head.alarms);
    assert!(state_bytes > 100, "{state_bytes}");
    let mut total = DynamoLayout.commit(&commit.key, 0, &commit.head).bytes;
    for (i, ((event, record), data)) in commit
        .events
        .iter()
        .zip(&commit.commands)
        .zip(&commit.data_after)
        .enumerate()
    {
        let after = AggregateState {
            state: event.state.clone(),
            version: event.version,
            data: data.clone(),
            alarms: commit.head.alarms.clone(),
        };
        let footprint = DynamoLayout.command(&commit.key, event, record, &after);
        total += footprint.bytes;
        // Each item is checked as if it were the head (it may be).
        assert_eq!(footprint.largest_item, footprint.bytes + state_bytes);
        if i == 2 {
            assert_eq!(footprint.largest_item, written[2], "the last item, exactly");
        } else {
            assert_eq!(footprint.bytes, written[i]);
        }
    }
    assert_eq!(total, written.iter().sum::<usize>(), "the append, exactly");
}

#[test]
fn a_broken_alarm_attribute_is_named_not_quoted() {
    let commit = commit();
    let mut items: Vec<Item> = commit_items(&commit).into_iter().map(Item::of).collect();
    let last = items.pop().unwrap();
    let mut broken = Item(
        last.0
            .into_iter()
            .map(|(n, v, s)| match n {
                attr::ALARM_STATE => (n, "{\"expiry\": {\"due\": \"secret\"}}".into(), s),
                attr::ALARMS => (n, "[\"secret\"]".into(), s),
                _ => (n, v, s),
            })
            .collect(),
    );
    assert_eq!(
        read::head(&broken).unwrap_err().to_string(),
        "item ticket#t-1: attribute `alarmState` is not the alarms set, by name"
    );
    assert_eq!(
        read::event(&broken).unwrap_err().to_string(),
        "item ticket#t-1: attribute `alarms` is not the alarms an event changed"
    );
    broken.0.retain(|(n, _, _)| *n != attr::ALARMS);
    assert_eq!(read::event(&broken).unwrap().alarms, None);
}

/// What one alarm adds to the items (docs/cost.md, "Alarms"): the saga's
/// payment timeout, set by a charge's event and kept in the head's state.
#[test]
fn one_alarm_adds_about_300_bytes() {
    let timeout = Alarm {
        name: "payment-timeout".into(),
        due: "2026-11-30T12:15:01Z".parse().unwrap(),
        version: 1,
        command: "TimeOutCharge".into(),
        payload: Map::new(),
        correlation_id: Some("place-o-1".into()),
        hops: 0,
    };
    let mut one = commit();
    one.events.truncate(1);
    one.commands.truncate(1);
    one.data_after.truncate(1);
    one.head.version = 1;
    one.events[0].alarms = None;
    one.head.alarms.clear();
    let plain = size::commit_item_bytes(&one)[0];
    one.events[0].alarms = Some(AlarmChanges {
        set: vec![timeout.clone()],
        cleared: vec![],
    });
    one.head.alarms = Alarms::from([(timeout.name.clone(), timeout)]);
    let with_alarm = size::commit_item_bytes(&one)[0];
    let state = size::alarm_state_bytes(&one.head.alarms);
    let changes = with_alarm - plain - state;
    eprintln!(
        "one alarm: the setting event's item {plain} -> {with_alarm} bytes \
         ({changes} for its `alarms`, {state} for the head's `alarmState`)"
    );
    assert!(changes < 200 && state < 200, "{changes}, {state}");
}
