//! The event-store trait. It is shaped for DynamoDB's conditional and
//! transactional writes: the current state is read from the head (never by
//! replaying history; the DynamoDB store's head is its newest event), and one
//! [`Commit`] (events, their idempotency records, new head) is written
//! atomically under an expected version.

use std::sync::Arc;

use async_trait::async_trait;
use state_machine::AggregateState;

use crate::cause::Cause;
use crate::commit_size::CommitSizing;
use crate::model::{AggregateKey, CommandRecord, Commit, Event};

/// What [`EventStore::load`] returns: the head and the idempotency records
/// asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// The aggregate's current state, `None` when it has no events.
    pub head: Option<AggregateState>,
    /// The records of those asked-for command ids that were already applied
    /// to this aggregate. Idempotency is scoped to the aggregate: an id
    /// applied to another aggregate is not returned.
    pub commands: Vec<CommandRecord>,
}

/// A fault of the store itself. Always transient from the handler's point of
/// view: the message is retried. The error underneath, when there is one (the
/// SDK's, SQLite's, JSON's), is its [`source()`](std::error::Error::source).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused for load (network, throttling, busy).
    #[error("event store unavailable: {reason}")]
    Unavailable {
        /// What failed (never quotes a stored value).
        reason: String,
        /// The error underneath.
        #[source]
        source: Option<Cause>,
    },
    /// A stored record could not be read back.
    #[error("corrupt record in event store: {reason}")]
    Corrupt {
        /// What is wrong with it (never quotes a stored value).
        reason: String,
        /// The error underneath.
        #[source]
        source: Option<Cause>,
    },
}

impl StoreError {
    /// The store could not be reached: `reason` says what failed.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        StoreError::Unavailable {
            reason: reason.into(),
            source: None,
        }
    }

    /// A stored record could not be read back: `reason` says what is wrong.
    pub fn corrupt(reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            reason: reason.into(),
            source: None,
        }
    }

    /// The same failure, keeping `cause` as its source.
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        let (StoreError::Unavailable { source, .. } | StoreError::Corrupt { source, .. }) =
            &mut self;
        *source = Some(Cause::new(cause));
        self
    }
}

/// Why an append wrote nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended first: the aggregate is no longer at the
    /// expected version. A twin delivery that lost the race sees this too,
    /// and finds its twin's record on the next load.
    #[error("version conflict on {key}: expected version {expected}")]
    Conflict {
        /// The aggregate.
        key: AggregateKey,
        /// The version the append expected.
        expected: u64,
    },
    /// The commit is larger than the store can write at once. Permanent.
    #[error("too large for one append: {0}")]
    TooLarge(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where events are kept: loaded by head, appended atomically, read back in
/// order. Implementations: the embedded SQLite store and the DynamoDB store;
/// every one must pass the conformance suite in `testkit`. The same stores
/// also keep the [`FailureLog`](crate::FailureLog) and the
/// [`AggregateIndex`](crate::AggregateIndex), separate traits so that a
/// reader or a wrapper needs only what it uses.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// The aggregate's head and the records of any of `command_ids` already
    /// applied to this aggregate, with consistent reads. A record applied at
    /// or below the head's version must be returned: a store that reads them
    /// apart reads the head first.
    async fn load(&self, key: &AggregateKey, command_ids: &[String]) -> Result<Loaded, StoreError>;

    /// Appends `commit` atomically: all its events, records and the head, or
    /// nothing. It fails as [`AppendError::Conflict`] when the version after
    /// `commit.expected_version` is already written. `expected_version` must
    /// be a version this store's [`load`](Self::load) returned: a store may
    /// check only that no one wrote past it, not that it exists.
    async fn append(&self, commit: &Commit) -> Result<(), AppendError>;

    /// Up to `limit` events with version greater than `after_version`, in
    /// version order.
    async fn events(
        &self,
        key: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError>;

    /// How this store counts a commit, and its limits: what the engine asks
    /// before it appends.
    fn sizing(&self) -> &dyn CommitSizing;
}

#[async_trait]
impl<T: EventStore + ?Sized> EventStore for Arc<T> {
    async fn load(&self, key: &AggregateKey, command_ids: &[String]) -> Result<Loaded, StoreError> {
        (**self).load(key, command_ids).await
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        (**self).append(commit).await
    }
    async fn events(
        &self,
        key: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        (**self).events(key, after_version, limit).await
    }
    fn sizing(&self) -> &dyn CommitSizing {
        (**self).sizing()
    }
}

/// Reads an aggregate's whole history, page by page.
pub async fn all_events<S: EventStore + ?Sized>(
    store: &S,
    key: &AggregateKey,
) -> Result<Vec<Event>, StoreError> {
    const PAGE: usize = 1000;
    let mut out = Vec::new();
    loop {
        let after = out.last().map_or(0, |e: &Event| e.version);
        let page = store.events(key, after, PAGE).await?;
        let done = page.len() < PAGE;
        out.extend(page);
        if done {
            return Ok(out);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_store_error_keeps_its_cause_as_the_source() {
        let err = StoreError::unavailable("Query on table events")
            .with_source(std::io::Error::other("connection reset"));
        assert_eq!(
            err.to_string(),
            "event store unavailable: Query on table events"
        );
        assert_eq!(
            err.source().map(ToString::to_string).as_deref(),
            Some("connection reset")
        );
        let append = AppendError::from(err.clone());
        assert_eq!(
            append.source().map(ToString::to_string).as_deref(),
            Some("connection reset"),
            "transparent: the store's cause is the append's"
        );
        assert!(StoreError::corrupt("no version").source().is_none());
        assert_eq!(err.clone(), err);
    }
}
