//! The listing of aggregates by type: which aggregates exist, with their
//! current state and version, page by page.

use std::sync::Arc;

use async_trait::async_trait;

use crate::store::StoreError;

/// One aggregate as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateSummary {
    /// The aggregate's id within its type.
    pub aggregate_id: String,
    /// Its current state.
    pub state: String,
    /// Its version.
    pub version: u64,
}

/// Lists the aggregates of a type (those an event store holds events of).
#[async_trait]
pub trait AggregateIndex: Send + Sync {
    /// Up to `limit` aggregates of a type that come after the aggregate
    /// `after` (from the start when `None`), in the store's listing order,
    /// stable across calls: paging with the last id of each page lists each
    /// aggregate of the type exactly once.
    async fn list_aggregates(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError>;
}

#[async_trait]
impl<T: AggregateIndex + ?Sized> AggregateIndex for Arc<T> {
    async fn list_aggregates(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError> {
        (**self).list_aggregates(aggregate_type, after, limit).await
    }
}
