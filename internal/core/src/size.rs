//! Exact sizes of the items an append writes, by DynamoDB's rule (every
//! attribute's name plus its value: a string's UTF-8 bytes, a number's
//! significant digits halved, rounded up, plus one), for the items the
//! DynamoDB store writes (`store-dynamodb`'s `items.rs`, whose tests compare
//! these with the items it builds). A command whose event or head would not
//! fit one item is refused on its own before anything is written; the
//! embedded store applies the same sizes, so what runs locally fits in AWS.

use serde_json::{Map, Value};
use state_machine::AggregateState;

use crate::model::{AggregateKey, CommandRecord, Event};

/// Bytes of a timestamp as the stores write it (`now_rfc3339`:
/// `2026-01-31T12:00:00.000Z`).
const TIMESTAMP_BYTES: usize = "2026-01-31T12:00:00.000Z".len();

/// The largest TTL a record carries, in epoch seconds (10 digits until 2286).
const EXPIRES_AT_MAX: u64 = 9_999_999_999;

/// Bytes of an event's item: `pk`, `sk`, `eventType`, `state`, `payload`,
/// `commandId`, `metadata`, `recordedAt`, `configVersion`.
pub fn event_item_bytes(key: &AggregateKey, event: &Event) -> usize {
    attr("pk", key_bytes(key))
        + attr("sk", number_bytes(event.version))
        + attr("eventType", event.event_type.len())
        + attr("state", event.state.len())
        + attr("payload", json_bytes(&event.payload))
        + attr("commandId", event.command_id.len())
        + attr("metadata", json_bytes(&event.metadata))
        + attr("recordedAt", event.recorded_at.len())
        + attr("configVersion", number_bytes(event.config_version))
}

/// Bytes of an aggregate's head (snapshot) item, which holds the key three
/// times: `pk`, `sk`, `itemType`, `aggregateType`, `aggregateId`, `headType`,
/// `headId` (the index's key), `state`, `version`, `data`, `updatedAt`.
pub fn head_item_bytes(key: &AggregateKey, head: &AggregateState) -> usize {
    let type_bytes = key.aggregate_type.len();
    let id_bytes = key.aggregate_id.len();
    attr("pk", key_bytes(key))
        + attr("sk", number_bytes(0))
        + attr("itemType", "head".len())
        + attr("aggregateType", type_bytes)
        + attr("aggregateId", id_bytes)
        + attr("headType", type_bytes)
        + attr("headId", id_bytes)
        + attr("state", head.state.len())
        + attr("version", number_bytes(head.version))
        + attr("data", json_bytes(&head.data))
        + attr("updatedAt", TIMESTAMP_BYTES)
}

/// Bytes of a command's idempotency record: `pk` (`#cmd#{commandId}`), `sk`,
/// `itemType`, `aggregateType`, `aggregateId`, `fingerprint`, `version`,
/// `recordedAt`, `expiresAt`.
pub fn record_bytes(record: &CommandRecord) -> usize {
    attr("pk", "#cmd#".len() + record.command_id.len())
        + attr("sk", number_bytes(0))
        + attr("itemType", "command".len())
        + attr("aggregateType", record.key.aggregate_type.len())
        + attr("aggregateId", record.key.aggregate_id.len())
        + attr("fingerprint", record.fingerprint.len())
        + attr("version", number_bytes(record.version))
        + attr("recordedAt", record.recorded_at.len())
        + attr("expiresAt", number_bytes(EXPIRES_AT_MAX))
}

/// DynamoDB's size of a number: one byte per two significant digits (leading
/// and trailing zeros do not count), plus one.
pub fn number_bytes(n: u64) -> usize {
    let digits = n.to_string();
    let significant = digits.trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn attr(name: &str, value_bytes: usize) -> usize {
    name.len() + value_bytes
}

fn key_bytes(key: &AggregateKey) -> usize {
    key.aggregate_type.len() + 1 + key.aggregate_id.len()
}

fn json_bytes(map: &Map<String, Value>) -> usize {
    serde_json::to_string(map).map_or(usize::MAX / 4, |s| s.len())
}

#[cfg(test)]
mod tests {
    use super::number_bytes;

    #[test]
    fn numbers_count_their_significant_digits() {
        assert_eq!(number_bytes(0), 2);
        assert_eq!(number_bytes(7), 2);
        assert_eq!(number_bytes(12), 2);
        assert_eq!(number_bytes(123), 3);
        assert_eq!(number_bytes(1_000_000), 2);
        assert_eq!(number_bytes(u64::MAX), 11);
    }
}
