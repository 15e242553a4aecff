//! Fault-injecting wrappers around a real event store, written once: a
//! wrapper implements [`StoreFaults`] (its `load` and `append`, the calls
//! faults are injected into, and `sizing`, the counting the engine plans
//! commits by), and [`Faulty`] makes it an [`EventStore`] that
//! forwards the rest of that trait to the inner store, and a [`FailureLog`]
//! (the handler records failures) that forwards to it untouched.

use std::ops::Deref;

use async_trait::async_trait;
use handler_core::{
    AggregateKey, AppendError, Commit, CommitSizing, Event, EventStore, FailureLog, FailureRecord,
    Loaded, StoreError, StoredFailure,
};

/// What a fault-injecting wrapper changes; by default nothing.
#[async_trait]
pub trait StoreFaults: Send + Sync {
    /// The real store underneath.
    type Inner: EventStore + FailureLog;

    /// The real store underneath.
    fn inner(&self) -> &Self::Inner;

    /// `EventStore::load`, with whatever the wrapper injects.
    async fn load(&self, key: &AggregateKey, ids: &[String]) -> Result<Loaded, StoreError> {
        self.inner().load(key, ids).await
    }

    /// `EventStore::append`, with whatever the wrapper injects.
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.inner().append(commit).await
    }

    /// `EventStore::sizing`, for a wrapper that counts commits its own way.
    fn sizing(&self) -> &dyn CommitSizing {
        self.inner().sizing()
    }
}

/// A [`StoreFaults`] wrapper as an [`EventStore`]. Derefs to the wrapper, so
/// a test reads its counters and its inner store directly.
#[derive(Debug)]
pub struct Faulty<F>(pub F);

impl<F> Deref for Faulty<F> {
    type Target = F;
    fn deref(&self) -> &F {
        &self.0
    }
}

#[async_trait]
impl<F: StoreFaults> EventStore for Faulty<F> {
    async fn load(&self, key: &AggregateKey, ids: &[String]) -> Result<Loaded, StoreError> {
        self.0.load(key, ids).await
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.0.append(commit).await
    }
    async fn events(
        &self,
        key: &AggregateKey,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.0.inner().events(key, after, limit).await
    }
    fn sizing(&self) -> &dyn CommitSizing {
        self.0.sizing()
    }
}

#[async_trait]
impl<F: StoreFaults> FailureLog for Faulty<F> {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        self.0.inner().record_failures(failures).await
    }
    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        self.0.inner().failure(message_id).await
    }
}
