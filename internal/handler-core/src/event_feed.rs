//! The event feed: stored events read in order after a cursor, and the
//! checkpoints that remember where a reader stopped. What the tracking
//! processor (replay) and the embedded processor read from. Also the
//! look-up of one correlation's events ([`Correlations`], `cmdctl trace`).
//!
//! The order is the store's: the embedded store's feed is every event in
//! append order (a global sequence); the DynamoDB store's reads one type,
//! aggregate by aggregate, each in version order. Both promise what the
//! table's stream promises: each aggregate's events in version order.

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::StoreError;
use crate::stored_event::StoredEvent;

/// Which events a feed returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    /// Only this aggregate type's events (required by some stores).
    pub aggregate_type: Option<String>,
    /// Only events recorded at or after this time: compared as text with
    /// `recordedAt`, so give it in the stored form ([`recorded_at_bound`]).
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

/// Finds the events of one correlation: those whose metadata's
/// `correlationId` is the id, and those of the root command (whose
/// `commandId` is the id).
#[async_trait]
pub trait Correlations: Send + Sync {
    /// Up to `limit` events of the correlation, ordered by `recordedAt`, then
    /// aggregate, then version.
    async fn correlated(
        &self,
        correlation_id: &str,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError>;
}

/// An RFC 3339 time (any offset) in the form `recordedAt` is stored in
/// (UTC, milliseconds, `Z`), so that text comparison is time order.
///
/// ```
/// assert_eq!(
///     handler_core::recorded_at_bound("2026-11-30T13:00:00+01:00").unwrap(),
///     "2026-11-30T12:00:00.000Z"
/// );
/// assert!(handler_core::recorded_at_bound("yesterday").is_err());
/// ```
///
/// # Errors
/// The text is not an RFC 3339 time.
pub fn recorded_at_bound(text: &str) -> Result<String, jiff::Error> {
    Ok(crate::clock::rfc3339_millis(text.parse()?))
}

#[async_trait]
impl<T: EventFeed + ?Sized> EventFeed for Arc<T> {
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        (**self).read(query, after, limit).await
    }
}

#[async_trait]
impl<T: Checkpoints + ?Sized> Checkpoints for Arc<T> {
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        (**self).checkpoint(name).await
    }

    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        (**self).save_checkpoint(name, cursor).await
    }
}

#[async_trait]
impl<T: Correlations + ?Sized> Correlations for Arc<T> {
    async fn correlated(
        &self,
        correlation_id: &str,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        (**self).correlated(correlation_id, limit).await
    }
}
