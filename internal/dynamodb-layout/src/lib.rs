//! The DynamoDB event store's layout and DynamoDB's rules, with no AWS crate:
//! what the store writes (docs/reference.md §3) and what DynamoDB lets it
//! write at once.
//!
//! It owns:
//! - [`items`]: the attributes of the one item an append writes per event
//!   (the event with the state after it, its alarm changes and its
//!   command's fingerprint; the listing keys on version 1; the aggregate's
//!   alarms on the last item of an append), as a list that `store-dynamodb`
//!   turns into SDK items and that [`size`] counts, so the two cannot drift
//!   apart;
//! - [`read`]: the one parse of those attributes back into an event, its
//!   aggregate and the state after it, over any holder of items
//!   ([`read::ItemAttributes`]: the SDK's items in `store-dynamodb`, a
//!   stream record's image in `lambda-dynamodb-stream`);
//! - [`size`]: DynamoDB's item-size rule ([`size::number_bytes`] and the
//!   rest), the exact sizes of those items and of their index entries, and
//!   write units;
//! - the names of the table's indexes, [`COMMAND_INDEX`] and
//!   [`LISTING_INDEX`];
//! - [`LIMITS`] and [`DynamoLayout`], the store's answer to the core's
//!   [`CommitSizing`] question: a command adds its event item, a commit adds
//!   nothing, under 100 items and 4 MB per transaction and 400 KB per item.
//!
//! Used by `store-dynamodb`, by `lambda-dynamodb-stream`, and by `store-sqlite`, which applies the same
//! sizes and limits so that what runs locally also fits in AWS. What it may
//! depend on: the model and the trait (`handler-core`) and pure libraries;
//! never AWS, so that the embedded store can use it.
//!
//! ```
//! use dynamodb_layout::DynamoLayout;
//! use handler_core::CommitSizing;
//!
//! assert_eq!(DynamoLayout.limits().max_items_per_commit, 100);
//! ```
#![forbid(unsafe_code)]

pub mod items;
pub mod read;
pub mod size;

use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, CommandRecord, CommitSizing, Event, Footprint, StoreLimits};

/// The local secondary index that finds a command's event within its aggregate: hash `pk`, range `commandId`, projecting `fingerprint`.
pub const COMMAND_INDEX: &str = "by-command";
/// The global secondary index that lists aggregates by type: hash `listShard`, range `listId`, keys only.
pub const LISTING_INDEX: &str = "aggregates-by-type";

/// DynamoDB's: 100 actions and 4 MB per transaction, 400 KB per item.
pub const LIMITS: StoreLimits = StoreLimits {
    max_items_per_commit: 100,
    max_item_bytes: 400 * 1024,
    max_commit_bytes: 4 * 1024 * 1024,
};

/// The DynamoDB store's counting: each command writes one item, its event
/// (with the state after it, its alarm changes, its fingerprint, and the
/// listing keys when it is the aggregate's first); a commit writes no other
/// item, but its last item also holds the aggregate's alarms
/// (`alarmState`): their bytes are the commit's, and each command's item is
/// checked against the item limit as if it were that last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DynamoLayout;

impl CommitSizing for DynamoLayout {
    fn limits(&self) -> StoreLimits {
        LIMITS
    }

    fn command(
        &self,
        key: &AggregateKey,
        event: &Event,
        record: &CommandRecord,
        after: &AggregateState,
    ) -> Footprint {
        let bytes = size::event_item_bytes(key, event, record, &after.data);
        Footprint {
            items: 1,
            bytes,
            largest_item: bytes + size::alarm_state_bytes(&after.alarms),
        }
    }

    fn commit(
        &self,
        _key: &AggregateKey,
        _expected_version: u64,
        head: &AggregateState,
    ) -> Footprint {
        Footprint {
            items: 0,
            bytes: size::alarm_state_bytes(&head.alarms),
            largest_item: 0,
        }
    }
}
