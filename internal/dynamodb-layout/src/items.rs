//! The attributes of the items an append writes: one item per event.
//!
//! | item | `pk` | `sk` | other attributes |
//! | --- | --- | --- | --- |
//! | event | `{type}#{id}` | version ≥ 1 | eventType, state, payload, commandId, metadata, recordedAt, configVersion, fingerprint, data; the version-1 event also listShard, listId |
//!
//! The newest event is the aggregate's head: its `state`, its version (`sk`)
//! and `data` (the aggregate's data after it) are the current state. Its
//! `commandId` and `fingerprint` key the local index
//! [`COMMAND_INDEX`](crate::COMMAND_INDEX) that finds a command's event within
//! its aggregate. Only version-1 events carry `listShard`/`listId`, the keys
//! of the sparse listing index [`LISTING_INDEX`](crate::LISTING_INDEX).
//! `payload`, `metadata` and `data` are JSON text.

use handler_core::{AggregateKey, CommandRecord, Event};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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

/// The listing shard of an aggregate id: the first byte of its SHA-256,
/// modulo [`LIST_SHARDS`].
pub fn list_shard_of(aggregate_id: &str) -> u8 {
    Sha256::digest(aggregate_id.as_bytes())[0] % LIST_SHARDS
}

/// The listing index's hash key for one shard of a type: `{type}#{n}`.
pub fn list_shard(aggregate_type: &str, shard: u8) -> String {
    format!("{aggregate_type}#{shard}")
}

/// An event's item: the event's attributes (docs/reference.md §3), its
/// command's `fingerprint`, the aggregate's `data` after it, and on the
/// version-1 event the listing keys.
pub fn event_item<'a>(
    key: &'a AggregateKey,
    event: &'a Event,
    record: &'a CommandRecord,
    data_after: &Map<String, Value>,
) -> Attributes<'a> {
    let mut item = vec![
        ("pk", owned(aggregate_pk(key))),
        ("sk", AttrValue::N(event.version)),
        ("eventType", borrowed(&event.event_type)),
        ("state", borrowed(&event.state)),
        ("payload", owned(json_text(&event.payload))),
        ("commandId", borrowed(&event.command_id)),
        ("metadata", owned(json_text(&event.metadata))),
        ("recordedAt", borrowed(&event.recorded_at)),
        ("configVersion", AttrValue::N(event.config_version)),
        ("fingerprint", borrowed(&record.fingerprint)),
        ("data", owned(json_text(data_after))),
    ];
    if event.version == 1 {
        let shard = list_shard_of(&key.aggregate_id);
        item.push(("listShard", owned(list_shard(&key.aggregate_type, shard))));
        item.push(("listId", borrowed(&key.aggregate_id)));
    }
    item
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
    fn shards_spread_ids_over_all_32() {
        let mut seen = [0usize; LIST_SHARDS as usize];
        for i in 0..3200 {
            seen[list_shard_of(&format!("o-{i}")) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 50), "{seen:?}");
        assert_eq!(list_shard("order", 7), "order#7");
    }
}
