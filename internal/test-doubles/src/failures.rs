//! [`MemoryFailures`]: a failure log in memory.

use std::sync::Mutex;
use std::sync::PoisonError;

use async_trait::async_trait;
use handler_core::{FailureLog, FailureRecord, StoreError, StoredFailure};

/// Keeps the failure records written; refuses every write while
/// [`down`](Self::down). Reads find nothing.
#[derive(Debug, Default)]
pub struct MemoryFailures {
    /// The records, in the order written.
    pub recorded: Mutex<Vec<FailureRecord>>,
    /// True: every write fails (the store is unavailable).
    pub down: Mutex<bool>,
}

#[async_trait]
impl FailureLog for MemoryFailures {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        if *self.down.lock().unwrap_or_else(PoisonError::into_inner) {
            return Err(StoreError::unavailable("down"));
        }
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(failures);
        Ok(())
    }

    async fn failure(&self, _message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        Ok(None)
    }
}
