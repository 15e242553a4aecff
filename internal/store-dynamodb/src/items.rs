//! The table's items (docs/reference.md §3) and their conversion to and from the
//! core's records. The attributes of the items an append writes are listed
//! once, in `dynamodb-layout`'s `items` (which also sizes them); this module
//! turns them into SDK items and reads them back.
//!
//! | item | `pk` | `sk` | other attributes |
//! | --- | --- | --- | --- |
//! | event | `{type}#{id}` | version ≥ 1 | eventType, state, payload, commandId, metadata, recordedAt, configVersion, fingerprint, data; alarms when the event changes them; version 1 also listShard, listId; the last of an append also alarmState when alarms are set |
//! | failure record | `#failure#{messageId}` | 0 | itemType=`failure`, code, reason, record (JSON of the latest), firstFailedAt, lastFailedAt, failures, expiresAt (TTL) |
//! | replay checkpoint | `#checkpoint#{name}` | 0 | itemType=`checkpoint`, cursor, savedAt |
//!
//! The newest event is the head (with the aggregate's alarms in its
//! `alarmState`). `commandId` keys the local index
//! [`COMMAND_INDEX`]; only version-1 events carry `listShard`/`listId`, the
//! keys of the sparse index [`LISTING_INDEX`] that lists the aggregates of a
//! type.
//!
//! An event's `sk` is always ≥ 1 and an aggregate type never starts with `#`,
//! so no other item can be mistaken for an event.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dynamodb_layout::items::{AttrValue, Attributes, attr};
use dynamodb_layout::read::{self, ItemAttributes};
use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, CommandRecord, Commit, Event, StoreError, StoredFailure};

pub use dynamodb_layout::items::TTL_ATTRIBUTE;
pub(crate) use dynamodb_layout::items::{aggregate_pk, list_shard, list_shard_of};
pub use dynamodb_layout::{COMMAND_INDEX, LISTING_INDEX};

/// An item as the SDK holds it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The partition key of a message's failure record.
pub(crate) fn failure_pk(message_id: &str) -> String {
    format!("#failure#{message_id}")
}

/// The partition key of a replay's checkpoint.
pub(crate) fn checkpoint_pk(name: &str) -> String {
    format!("#checkpoint#{name}")
}

pub(crate) fn string_attr(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn number_attr(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The key of an item.
pub(crate) fn key(pk: String, sk: u64) -> Item {
    HashMap::from([
        ("pk".to_owned(), string_attr(pk)),
        ("sk".to_owned(), number_attr(sk)),
    ])
}

/// The items an append of `commit` writes, in version order (the last
/// with the head's alarms).
pub(crate) fn commit_items(commit: &Commit) -> Vec<Item> {
    dynamodb_layout::items::commit_items(commit)
        .into_iter()
        .map(sdk_item)
        .collect()
}

/// The layout's attributes as the SDK's.
fn sdk_item(attributes: Attributes<'_>) -> Item {
    attributes
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                AttrValue::S(text) => string_attr(text),
                AttrValue::N(n) => number_attr(n),
            };
            (name.to_owned(), value)
        })
        .collect()
}

/// The SDK's item as the layout reads items.
struct Sdk<'a>(&'a Item);

impl ItemAttributes for Sdk<'_> {
    fn string(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        }
    }

    fn number(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => Some(v),
            _ => None,
        }
    }
}

pub(crate) fn parse_event(item: &Item) -> Result<Event, StoreError> {
    Ok(read::event(&Sdk(item))?)
}

/// The head from the newest event item.
pub(crate) fn parse_head(item: &Item) -> Result<AggregateState, StoreError> {
    Ok(read::head(&Sdk(item))?)
}

/// A command's record from its entry in [`COMMAND_INDEX`].
pub(crate) fn parse_command(key: &AggregateKey, item: &Item) -> Result<CommandRecord, StoreError> {
    Ok(CommandRecord {
        command_id: get_s(item, attr::COMMAND_ID)?.to_owned(),
        key: key.clone(),
        fingerprint: get_s(item, attr::FINGERPRINT)?.to_owned(),
        version: get_n(item, attr::SK)?,
    })
}

pub(crate) fn parse_failure(item: &Item) -> Result<StoredFailure, StoreError> {
    let item = Sdk(item);
    Ok(StoredFailure {
        last: serde_json::from_str(read::string(&item, "record")?)
            .map_err(|_| read::bad(&item, "record", "a failure record"))?,
        first_failed_at: read::string(&item, "firstFailedAt")?.to_owned(),
        failures: read::number(&item, "failures")?,
    })
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(read::bad(&Sdk(item), name, "a string").into()),
    }
}

pub(crate) fn get_n(item: &Item, name: &'static str) -> Result<u64, StoreError> {
    Ok(read::number(&Sdk(item), name)?)
}

#[cfg(test)]
mod tests {
    use dynamodb_layout::size;
    use serde_json::json;

    use serde_json::{Map, Value};

    use super::*;

    fn event_item(
        key: &AggregateKey,
        event: &Event,
        record: &CommandRecord,
        data_after: &Map<String, Value>,
    ) -> Item {
        sdk_item(dynamodb_layout::items::event_item(
            key, event, record, data_after,
        ))
    }

    /// An item's size by DynamoDB's rule, from the attributes the item holds.
    fn item_bytes(item: &Item) -> usize {
        item.iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(text) => text.len(),
                        AttributeValue::N(number) => {
                            size::number_bytes(number.parse().expect("a whole number"))
                        }
                        other => panic!("attribute `{name}` is neither S nor N: {other:?}"),
                    }
            })
            .sum()
    }

    fn keys() -> [AggregateKey; 3] {
        [
            AggregateKey::new("order", "o-1"),
            AggregateKey::new("t", "é".repeat(40)),
            AggregateKey::new("a".repeat(128), "x".repeat(512)),
        ]
    }

    #[test]
    fn the_layout_sizes_the_items_this_store_writes_exactly() {
        for key in keys() {
            for version in [1, 9, 10, 12_345, 1_000_000] {
                let event = Event {
                    alarms: None,
                    version,
                    event_type: "OrderCreated".into(),
                    state: "Créé".into(),
                    payload: json!({ "itemId": "tea", "note": "ünïcode", "n": [1, 2.5] })
                        .as_object()
                        .cloned()
                        .expect("object"),
                    command_id: "c-ü-1".into(),
                    metadata: json!({ "by": "ops" }).as_object().cloned().expect("object"),
                    recorded_at: "2026-11-30T12:00:00.000Z".to_owned(),
                    config_version: version + 3,
                };
                let record = CommandRecord {
                    command_id: event.command_id.clone(),
                    key: key.clone(),
                    fingerprint: handler_core::model::fingerprint(&key, "C", &event.payload),
                    version,
                };
                let data = json!({ "itemId": "tea", "total": 12.5, "é": [true, null] })
                    .as_object()
                    .cloned()
                    .expect("object");
                let item = event_item(&key, &event, &record, &data);
                assert_eq!(
                    size::event_item_bytes(&key, &event, &record, &data),
                    item_bytes(&item),
                    "event {version} of {key}"
                );
                // Version 1 carries the listing keys, later versions do not.
                assert_eq!(item.contains_key("listShard"), version == 1);
                assert_eq!(item.contains_key("listId"), version == 1);
                let head = parse_head(&item).expect("head");
                assert_eq!((head.version, head.data), (version, data));
                assert_eq!(parse_event(&item).expect("event"), event);
                assert_eq!(parse_command(&key, &item).expect("record"), record);
            }
        }
    }

    #[test]
    fn the_layout_sizes_an_append_with_alarms_exactly_and_it_reads_back() {
        use handler_core::state_machine::{Alarm, AlarmChanges, Alarms};

        let key = AggregateKey::new("order", "o-1");
        let alarm = Alarm {
            name: "payment-timeout".into(),
            due: "2026-12-01T00:15:00Z".parse().expect("a time"),
            version: 1,
            command: "PaymentTimedOut".into(),
            payload: Map::new(),
            correlation_id: Some("place-o-1".into()),
            hops: 0,
        };
        let events: Vec<Event> = (1..=2)
            .map(|version| Event {
                version,
                event_type: "Touched".into(),
                state: "Open".into(),
                payload: Map::new(),
                command_id: format!("c-{version}"),
                metadata: Map::new(),
                recorded_at: "2026-11-30T12:00:00.000Z".to_owned(),
                config_version: 1,
                alarms: (version == 1).then(|| AlarmChanges {
                    set: vec![alarm.clone()],
                    cleared: vec![],
                }),
            })
            .collect();
        let commit = Commit {
            key: key.clone(),
            expected_version: 0,
            commands: events
                .iter()
                .map(|e| CommandRecord {
                    command_id: e.command_id.clone(),
                    key: key.clone(),
                    fingerprint: "f".into(),
                    version: e.version,
                })
                .collect(),
            data_after: vec![Map::new(); 2],
            head: AggregateState {
                state: "Open".into(),
                version: 2,
                data: Map::new(),
                alarms: Alarms::from([(alarm.name.clone(), alarm)]),
            },
            events,
        };
        let items = commit_items(&commit);
        let sizes: Vec<usize> = items.iter().map(item_bytes).collect();
        assert_eq!(sizes, size::commit_item_bytes(&commit));
        assert!(items[0].contains_key("alarms") && !items[0].contains_key("alarmState"));
        assert!(!items[1].contains_key("alarms") && items[1].contains_key("alarmState"));
        assert_eq!(parse_event(&items[0]).expect("event"), commit.events[0]);
        assert_eq!(parse_head(&items[1]).expect("head"), commit.head);
    }
}
