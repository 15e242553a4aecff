//! The DynamoDB event store's layout and DynamoDB's rules, with no AWS crate:
//! what the store writes (docs/reference.md §3) and what DynamoDB lets it
//! write at once.
//!
//! It owns:
//! - [`items`]: the attributes of each item an append writes (event, head,
//!   command record), as one list per item that `store-dynamodb` turns into
//!   SDK items and that [`size`] counts, so the two cannot drift apart;
//! - [`size`]: DynamoDB's item-size rule ([`size::number_bytes`] and the
//!   rest) and the exact sizes of those items;
//! - [`LIMITS`] and [`DynamoLayout`], the store's answer to the core's
//!   [`CommitSizing`] question: a command adds its event and its record, a
//!   commit adds its head, under 100 items and 4 MB per transaction and
//!   400 KB per item.
//!
//! Used by `store-dynamodb`, and by `store-sqlite`, which applies the same
//! sizes and limits so that what runs locally also fits in AWS. It depends on
//! `handler-core` (the model and the trait) and serde_json only.
//!
//! ```
//! use dynamodb_layout::DynamoLayout;
//! use handler_core::CommitSizing;
//!
//! assert_eq!(DynamoLayout.limits().max_items_per_commit, 100);
//! ```
#![forbid(unsafe_code)]

pub mod items;
pub mod size;

use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, CommandRecord, CommitSizing, Event, Footprint, StoreLimits};

/// The local secondary index of table layout 2 (hash `pk`, range
/// `commandId`): finds a command's event within its aggregate
/// (docs/cost.md). A table without it has an older layout.
pub const COMMAND_INDEX: &str = "by-command";

/// The sharded listing index of table layout 2 (docs/cost.md).
pub const LISTING_INDEX: &str = "aggregates-by-type";

/// DynamoDB's: 100 actions and 4 MB per transaction, 400 KB per item.
pub const LIMITS: StoreLimits = StoreLimits {
    max_items_per_commit: 100,
    max_item_bytes: 400 * 1024,
    max_commit_bytes: 4 * 1024 * 1024,
};

/// The DynamoDB store's counting: each command writes an event item and a
/// command record; each commit writes the head once.
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
        _after: &AggregateState,
    ) -> Footprint {
        one_item(size::event_item_bytes(key, event)) + one_item(size::record_bytes(record))
    }

    fn commit(
        &self,
        key: &AggregateKey,
        _expected_version: u64,
        head: &AggregateState,
    ) -> Footprint {
        one_item(size::head_item_bytes(key, head))
    }
}

fn one_item(bytes: usize) -> Footprint {
    Footprint {
        items: 1,
        bytes,
        largest_item: bytes,
    }
}
