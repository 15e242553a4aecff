//! The question the engine asks a store before it appends: what a commit
//! would take, counted the store's way, and how much one commit may take.
//! The answers are the store's own (its item layout and its limits); the
//! core holds no store's numbers or rules.
//!
//! A commit is counted in two parts: what each of its commands adds (an event,
//! an idempotency record, whatever else the store writes per command) and what
//! the commit adds once whatever it holds (a head item, say, or an index entry
//! for an aggregate's first commit; or nothing).

use state_machine::AggregateState;

use crate::model::{AggregateKey, CommandRecord, Event};

/// What one part of a commit adds to it, in the store's counting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Items (rows, records) it writes.
    pub items: usize,
    /// Their bytes in total.
    pub bytes: usize,
    /// The bytes of the largest of them (0 when it writes none).
    pub largest_item: usize,
}

impl std::ops::Add for Footprint {
    type Output = Footprint;
    fn add(self, other: Footprint) -> Footprint {
        Footprint {
            items: self.items + other.items,
            bytes: self.bytes + other.bytes,
            largest_item: self.largest_item.max(other.largest_item),
        }
    }
}

/// The sizes one append may not exceed, in the counting of
/// [`CommitSizing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Items one atomic append may write.
    pub max_items_per_commit: usize,
    /// Largest single item.
    pub max_item_bytes: usize,
    /// Largest total of one append's items.
    pub max_commit_bytes: usize,
}

impl StoreLimits {
    /// True when a commit of `size` is within the per-commit limits (items
    /// and total bytes; single items are checked per command).
    pub fn admit(&self, size: Footprint) -> bool {
        size.items <= self.max_items_per_commit && size.bytes <= self.max_commit_bytes
    }
}

/// How a store counts what a commit writes. The engine asks it per command
/// before it appends, so that a command that cannot be written is refused on
/// its own and the others are packed into as few commits as the limits allow.
pub trait CommitSizing: Send + Sync {
    /// The limits of one append.
    fn limits(&self) -> StoreLimits;

    /// What one applied command adds to a commit: its `event`, its `record`,
    /// and whatever else the store writes per command; `after` is the
    /// aggregate's state after the event.
    fn command(
        &self,
        key: &AggregateKey,
        event: &Event,
        record: &CommandRecord,
        after: &AggregateState,
    ) -> Footprint;

    /// What a commit adds once, whatever number of commands it holds:
    /// `head` is the state after its last command, `expected_version` the
    /// version it is appended at (0: the aggregate's first commit).
    fn commit(&self, key: &AggregateKey, expected_version: u64, head: &AggregateState)
    -> Footprint;
}
