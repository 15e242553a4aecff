//! What the routes need of the handler and its store, as one object-safe
//! trait, so that the router is one type whatever store and config source
//! it runs on: [`Backend`], implemented for every [`Handler`] whose store
//! also lists aggregates and finds correlations.

use std::sync::Arc;

use async_trait::async_trait;
use batch_handler::Handler;
use handler_core::state_machine::{AggregateState, StateMachine};
use handler_core::{
    AggregateIndex, AggregateKey, AggregateSummary, Batch, BatchReport, ConfigSource,
    ConfigSourceError, Correlations, Event, EventStore, FailureLog, StoreError, StoredEvent,
};

/// The handler and the reads of its store.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Runs one batch through the handler.
    async fn handle(&self, batch: Batch) -> BatchReport;
    /// The aggregate's head (consistent read), `None` when it has no events.
    async fn head(&self, key: &AggregateKey) -> Result<Option<AggregateState>, StoreError>;
    /// Up to `limit` events after `after`, oldest first.
    async fn events(
        &self,
        key: &AggregateKey,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;
    /// Up to `limit` aggregates of a type after the id `after`.
    async fn list(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError>;
    /// Up to `limit` events of one correlation.
    async fn correlated(&self, id: &str, limit: usize) -> Result<Vec<StoredEvent>, StoreError>;
    /// The state machine of a type.
    async fn config(&self, aggregate_type: &str) -> Result<Arc<StateMachine>, ConfigSourceError>;
    /// The aggregate types the config source has, sorted.
    async fn types(&self) -> Result<Vec<String>, ConfigSourceError>;
}

#[async_trait]
impl<S, C> Backend for Handler<S, C>
where
    S: EventStore + FailureLog + AggregateIndex + Correlations + 'static,
    C: ConfigSource + 'static,
{
    async fn handle(&self, batch: Batch) -> BatchReport {
        Handler::handle(self, batch).await
    }

    async fn head(&self, key: &AggregateKey) -> Result<Option<AggregateState>, StoreError> {
        Ok(self.store().load(key, &[]).await?.head)
    }

    async fn events(
        &self,
        key: &AggregateKey,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.store().events(key, after, limit).await
    }

    async fn list(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError> {
        self.store()
            .list_aggregates(aggregate_type, after, limit)
            .await
    }

    async fn correlated(&self, id: &str, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.store().correlated(id, limit).await
    }

    async fn config(&self, aggregate_type: &str) -> Result<Arc<StateMachine>, ConfigSourceError> {
        self.configs().state_machine(aggregate_type).await
    }

    async fn types(&self) -> Result<Vec<String>, ConfigSourceError> {
        self.configs().aggregate_types().await
    }
}
