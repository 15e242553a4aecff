//! Where a command goes to be handled later: the command queue. The HTTP
//! API's `POST /commands` without `Prefer: wait` puts the command there (on
//! AWS, the SQS queue the command Lambda reads); a host with no queue (the
//! local server) runs every command in the request instead.

use std::sync::Arc;

use async_trait::async_trait;

use crate::cause::Cause;
use crate::envelope::Command;

/// The queue did not take the command. Always transient: the caller may
/// send the same command again (the command id makes that safe).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the command queue did not take the command: {reason}")]
pub struct QueueError {
    /// What went wrong, without any value of the command.
    pub reason: String,
    /// The error underneath (the SDK's), when there is one.
    #[source]
    pub source: Option<Cause>,
}

impl QueueError {
    /// A failure with a reason and no error underneath.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            source: None,
        }
    }

    /// Keeps `cause` as this error's source.
    pub fn with_source(mut self, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Cause::new(cause));
        self
    }
}

/// Puts one command on the command queue.
#[async_trait]
pub trait CommandQueue: Send + Sync {
    /// Sends `body` (the command message, its `commandId` set) for
    /// `command` (the same message, parsed): on a FIFO queue its message
    /// group is the aggregate's and its deduplication id the command id's,
    /// as for every other producer. Returns once the queue has durably
    /// taken it.
    async fn enqueue(&self, command: &Command, body: &str) -> Result<(), QueueError>;
}

#[async_trait]
impl<T: CommandQueue + ?Sized> CommandQueue for Arc<T> {
    async fn enqueue(&self, command: &Command, body: &str) -> Result<(), QueueError> {
        (**self).enqueue(command, body).await
    }
}
