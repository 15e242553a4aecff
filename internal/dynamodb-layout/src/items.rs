//! The attributes of the items an append writes: one item per event.
//!
//! | item | `pk` | `sk` | other attributes |
//! | --- | --- | --- | --- |
//! | event | `{type}#{id}` | version ≥ 1 | eventType, state, payload, commandId, metadata, recordedAt, configVersion, fingerprint, data; alarms when the event changes them; the version-1 event also listShard, listId; the last event of each append also alarmState when the aggregate has alarms set |
//!
//! The newest event is the aggregate's head: its `state`, its version (`sk`),
//! `data` (the aggregate's data after it) and `alarmState` (the alarms set
//! after it; absent: none) are the current state. Its
//! `commandId` and `fingerprint` key the local index
//! [`COMMAND_INDEX`](crate::COMMAND_INDEX) that finds a command's event within
//! its aggregate. Only version-1 events carry `listShard`/`listId`, the keys
//! of the sparse listing index [`LISTING_INDEX`](crate::LISTING_INDEX).
//! `payload`, `metadata`, `data`, `alarms` and `alarmState` are JSON text.

use handler_core::state_machine::Alarms;
use handler_core::{AggregateKey, CommandRecord, Commit, Event};
use serde_json::{Map, Value};

/// The attributes' names, written by [`event_item`] and read back by
/// [`crate::read`].
pub mod attr {
    /// The partition key: `{type}#{id}` (events) or `#failure#{id}`.
    pub const PK: &str = "pk";
    /// The sort key: an event's version (≥ 1), 0 for every other item.
    pub const SK: &str = "sk";
    /// The transition's `event`.
    pub const EVENT_TYPE: &str = "eventType";
    /// The aggregate's state after the event.
    pub const STATE: &str = "state";
    /// The command's payload (JSON text).
    pub const PAYLOAD: &str = "payload";
    /// The command that produced the event.
    pub const COMMAND_ID: &str = "commandId";
    /// The command's metadata (JSON text).
    pub const METADATA: &str = "metadata";
    /// When the event was recorded (RFC 3339).
    pub const RECORDED_AT: &str = "recordedAt";
    /// The config version that accepted the command.
    pub const CONFIG_VERSION: &str = "configVersion";
    /// The command's fingerprint.
    pub const FINGERPRINT: &str = "fingerprint";
    /// The aggregate's data after the event (JSON text).
    pub const DATA: &str = "data";
    /// The listing index's hash key (version 1 only).
    pub const LIST_SHARD: &str = "listShard";
    /// The listing index's range key (version 1 only).
    pub const LIST_ID: &str = "listId";
    /// What the event did to its aggregate's alarms (JSON text of
    /// `{set: [...], cleared: [...]}`, whole alarm entries); only on an
    /// event that changes them.
    pub const ALARMS: &str = "alarms";
    /// The alarms the aggregate has set after the event (JSON text of an
    /// object by name); only on the last event of an append, and only when
    /// there are any. Read from the head.
    pub const ALARM_STATE: &str = "alarmState";
}

/// One attribute's value: a string (`S`) or a whole number (`N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue<'a> {
    /// A string, borrowed from the record where it can be.
    S(std::borrow::Cow<'a, str>),
    /// A whole number.
    N(u64),
}

/// An item: its attributes' names and values.
pub type Attributes<'a> = Vec<(&'static str, AttrValue<'a>)>;

/// The TTL attribute of failure records.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// How many shards the listing index spreads one aggregate type over.
pub const LIST_SHARDS: u8 = 32;

/// The partition key of an aggregate's events.
pub fn aggregate_pk(key: &AggregateKey) -> String {
    key.to_string()
}

/// The aggregate of an event's partition key (`{type}#{id}`); `None` for
/// any other key (a failure record's starts with `#`).
///
/// ```
/// use dynamodb_layout::items::key_of_pk;
/// assert_eq!(key_of_pk("order#o-1").map(|k| k.to_string()).as_deref(), Some("order#o-1"));
/// assert_eq!(key_of_pk("#failure#m-1"), None);
/// assert_eq!(key_of_pk("order#"), None);
/// ```
pub fn key_of_pk(pk: &str) -> Option<AggregateKey> {
    let (aggregate_type, aggregate_id) = pk.split_once('#')?;
    if aggregate_type.is_empty() || aggregate_id.is_empty() {
        return None;
    }
    Some(AggregateKey::new(aggregate_type, aggregate_id))
}

/// The listing shard of an aggregate id among [`LIST_SHARDS`]
/// ([`handler_core::state_machine::ids::list_shard`]: the first byte of
/// its SHA-256).
pub fn list_shard_of(aggregate_id: &str) -> u8 {
    handler_core::state_machine::ids::list_shard(aggregate_id, LIST_SHARDS)
}

/// The listing index's hash key for one shard of a type: `{type}#{n}`.
pub fn list_shard(aggregate_type: &str, shard: u8) -> String {
    format!("{aggregate_type}#{shard}")
}

/// An event's item: the event's attributes (docs/reference.md §3), its
/// command's `fingerprint`, the aggregate's `data` after it, its `alarms`
/// changes when it has any, and on the version-1 event the listing keys.
/// The head's [`alarm_state`] is added by [`commit_items`].
pub fn event_item<'a>(
    key: &'a AggregateKey,
    event: &'a Event,
    record: &'a CommandRecord,
    data_after: &Map<String, Value>,
) -> Attributes<'a> {
    let mut item = vec![
        (attr::PK, owned(aggregate_pk(key))),
        (attr::SK, AttrValue::N(event.version)),
        (attr::EVENT_TYPE, borrowed(&event.event_type)),
        (attr::STATE, borrowed(&event.state)),
        (attr::PAYLOAD, owned(json_text(&event.payload))),
        (attr::COMMAND_ID, borrowed(&event.command_id)),
        (attr::METADATA, owned(json_text(&event.metadata))),
        (attr::RECORDED_AT, borrowed(&event.recorded_at)),
        (attr::CONFIG_VERSION, AttrValue::N(event.config_version)),
        (attr::FINGERPRINT, borrowed(&record.fingerprint)),
        (attr::DATA, owned(json_text(data_after))),
    ];
    if let Some(changes) = event.alarms.as_ref().filter(|c| !c.is_empty()) {
        item.push((attr::ALARMS, owned(to_json(changes))));
    }
    if event.version == 1 {
        let shard = list_shard_of(&key.aggregate_id);
        item.push((
            attr::LIST_SHARD,
            owned(list_shard(&key.aggregate_type, shard)),
        ));
        item.push((attr::LIST_ID, borrowed(&key.aggregate_id)));
    }
    item
}

/// The `alarmState` attribute of a head whose aggregate has `alarms` set;
/// `None` when it has none (the attribute is left out).
pub fn alarm_state(alarms: &Alarms) -> Option<(&'static str, AttrValue<'static>)> {
    (!alarms.is_empty()).then(|| (attr::ALARM_STATE, owned(to_json(alarms))))
}

/// Every item an append of `commit` writes, in version order: one per
/// event ([`event_item`]), the last with the head's [`alarm_state`].
pub fn commit_items(commit: &Commit) -> Vec<Attributes<'_>> {
    let mut items: Vec<Attributes<'_>> = commit
        .events
        .iter()
        .zip(&commit.commands)
        .zip(&commit.data_after)
        .map(|((event, record), data)| event_item(&commit.key, event, record, data))
        .collect();
    if let (Some(last), Some(state)) = (items.last_mut(), alarm_state(&commit.head.alarms)) {
        last.push(state);
    }
    items
}

/// A value of the model as JSON text (its types always serialize).
fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// A JSON object as the items hold it.
pub fn json_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

fn borrowed(text: &str) -> AttrValue<'_> {
    AttrValue::S(text.into())
}

fn owned(text: String) -> AttrValue<'static> {
    AttrValue::S(text.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_shard_is_pinned() {
        // Stored listing keys carry the shard: it never changes for an id.
        assert_eq!((list_shard_of("o-1"), list_shard_of("sku-1")), (28, 23));
    }

    #[test]
    fn shards_spread_ids_over_all_32() {
        let mut seen = [0usize; LIST_SHARDS as usize];
        for i in 0..3200 {
            seen[list_shard_of(&format!("o-{i}")) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(list_shard("order", 7), "order#7");
    }
}
