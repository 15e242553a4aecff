//! Exact sizes of the items an append writes, by DynamoDB's rule: every
//! attribute's name plus its value, a string's UTF-8 bytes, a number's
//! significant digits halved, rounded up, plus one. `store-dynamodb`'s tests
//! compare these with the SDK items it builds.

use handler_core::state_machine::Alarms;
use handler_core::{AggregateKey, CommandRecord, Commit, Event};
use serde_json::{Map, Value};

use crate::items::{self, AttrValue, attr};

/// Bytes of an event's item (with its alarm changes, and the listing keys
/// on version 1), without the head's `alarmState`.
pub fn event_item_bytes(
    key: &AggregateKey,
    event: &Event,
    record: &CommandRecord,
    data_after: &Map<String, Value>,
) -> usize {
    item_bytes(&items::event_item(key, event, record, data_after))
}

/// Bytes the head's `alarmState` adds to the last item of an append (0
/// when the aggregate has no alarms).
pub fn alarm_state_bytes(alarms: &Alarms) -> usize {
    items::alarm_state(alarms).map_or(0, |attribute| item_bytes(&[attribute]))
}

/// Bytes of each item an append of `commit` writes, in order.
pub fn commit_item_bytes(commit: &Commit) -> Vec<usize> {
    items::commit_items(commit)
        .iter()
        .map(|item| item_bytes(item))
        .collect()
}

/// Bytes of the entry a command's event writes in the local index
/// [`COMMAND_INDEX`](crate::COMMAND_INDEX): the table's key, the index's key
/// and the projected `fingerprint`, plus the 100 bytes of overhead AWS counts
/// for every index entry.
pub fn command_index_entry_bytes(
    key: &AggregateKey,
    event: &Event,
    record: &CommandRecord,
) -> usize {
    let item: [(&str, AttrValue<'_>); 4] = [
        (attr::PK, AttrValue::S(items::aggregate_pk(key).into())),
        (attr::SK, AttrValue::N(event.version)),
        (
            attr::COMMAND_ID,
            AttrValue::S(event.command_id.as_str().into()),
        ),
        (
            attr::FINGERPRINT,
            AttrValue::S(record.fingerprint.as_str().into()),
        ),
    ];
    item_bytes(&item) + INDEX_ENTRY_OVERHEAD
}

/// What AWS adds to every index entry's size.
pub const INDEX_ENTRY_OVERHEAD: usize = 100;

/// Write units of a standard (non-transactional) write of `bytes`: one per
/// KB, rounded up, at least one. A transactional write costs twice this.
pub fn write_units(bytes: usize) -> usize {
    bytes.div_ceil(1024).max(1)
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
