//! Exact sizes of the items an append writes, by DynamoDB's rule: every
//! attribute's name plus its value, a string's UTF-8 bytes, a number's
//! significant digits halved, rounded up, plus one. `store-dynamodb`'s tests
//! compare these with the SDK items it builds.

use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, CommandRecord, Event};

use crate::items::{self, AttrValue};

/// A timestamp of the length the stores write (`now_rfc3339`:
/// `2026-01-31T12:00:00.000Z`).
const TIMESTAMP_SAMPLE: &str = "2026-01-31T12:00:00.000Z";

/// The largest TTL a record carries, in epoch seconds (10 digits until 2286).
const EXPIRES_AT_MAX: u64 = 9_999_999_999;

/// Bytes of an event's item.
pub fn event_item_bytes(key: &AggregateKey, event: &Event) -> usize {
    item_bytes(&items::event_item(key, event))
}

/// Bytes of an aggregate's head item.
pub fn head_item_bytes(key: &AggregateKey, head: &AggregateState) -> usize {
    item_bytes(&items::head_item(key, head, TIMESTAMP_SAMPLE))
}

/// Bytes of a command's idempotency record (with the longest TTL).
pub fn record_bytes(record: &CommandRecord) -> usize {
    item_bytes(&items::command_item(record, EXPIRES_AT_MAX))
}

/// Bytes of an item: its attributes' names plus their values.
pub fn item_bytes(item: &[(&str, AttrValue<'_>)]) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_bytes(value))
        .sum()
}

/// Bytes of one value.
pub fn value_bytes(value: &AttrValue<'_>) -> usize {
    match value {
        AttrValue::S(text) => text.len(),
        AttrValue::N(n) => number_bytes(*n),
    }
}

/// DynamoDB's size of a number: one byte per two significant digits (leading
/// and trailing zeros do not count), plus one.
pub fn number_bytes(n: u64) -> usize {
    let digits = n.to_string();
    let significant = digits.trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
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
