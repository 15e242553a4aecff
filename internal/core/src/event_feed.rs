//! The event feed: stored events read in order after a cursor, and the
//! checkpoints that remember where a reader stopped. What the tracking
//! processor (replay) and the embedded processor read from.

use async_trait::async_trait;

use crate::store::StoreError;
use crate::stored_event::StoredEvent;

/// Which events a feed returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only this aggregate type's events (required by some stores).
    pub aggregate_type: Option<String>,
    /// Only events recorded at or after this RFC 3339 time.
    pub since: Option<String>,
}

/// One page of a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedPage {
    /// The events, in feed order.
    pub events: Vec<StoredEvent>,
    /// Opaque: the position after the last event read; `None` when nothing was read.
    pub cursor: Option<String>,
    /// True when more events may follow.
    pub more: bool,
}

/// Reads stored events in order.
#[async_trait]
pub trait EventFeed: Send + Sync {
    /// Up to `limit` events matching `query` after the cursor `after` (from
    /// the start when `None`).
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError>;
}

/// Where readers save how far they got, by name.
#[async_trait]
pub trait Checkpoints: Send + Sync {
    /// The cursor saved under `name`, if any.
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError>;
    /// Saves `cursor` under `name`.
    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError>;
}
