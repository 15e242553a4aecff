//! Failure records: for every message that fails, the store keeps the reason
//! under the SQS message id (with a TTL), so an operator who finds a message
//! in the dead-letter queue can read why it got there.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::model::AggregateKey;
use crate::store::StoreError;

/// One failure of one message, as the handler saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureRecord {
    /// SQS message id (the record's key).
    pub message_id: String,
    /// The aggregate, when the body could be parsed.
    pub aggregate: Option<AggregateKey>,
    /// The command, when the body could be parsed.
    pub command: Option<String>,
    /// The command id, when the body could be parsed.
    pub command_id: Option<String>,
    /// The failure's code (`invalid_transition`, `store_unavailable`, ...).
    pub code: String,
    /// The failure's text. Never holds payload values.
    pub reason: String,
    /// True for a permanent rejection.
    pub permanent: bool,
    /// SQS `ApproximateReceiveCount` of the delivery that failed.
    pub receive_count: Option<u32>,
    /// RFC 3339 UTC time of the failure.
    pub failed_at: String,
}

/// What a store holds for a message id: its latest failure and a summary of
/// all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFailure {
    /// The latest failure recorded.
    pub last: FailureRecord,
    /// When the first failure was recorded.
    pub first_failed_at: String,
    /// How many failures were recorded.
    pub failures: u64,
}

/// Where failures are recorded, each under its SQS message id. The handler
/// writes to it after every batch; the operator's DLQ tools read it.
#[async_trait]
pub trait FailureLog: Send + Sync {
    /// Records these failures, each under its message id: the latest
    /// reason, the first and last failure times and a count. Kept at least
    /// as long as a message can stay in a queue.
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError>;

    /// What was recorded for a message id.
    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError>;
}

#[async_trait]
impl<T: FailureLog + ?Sized> FailureLog for Arc<T> {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        (**self).record_failures(failures).await
    }
    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        (**self).failure(message_id).await
    }
}
