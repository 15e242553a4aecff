//! Where permanent rejections may go at once instead of being retried until
//! the queue's redrive policy moves them: typically the dead-letter queue,
//! with the reason attached. The handler reports a message it handed over
//! as done (it is not retried), so the sink must only claim messages it has
//! durably taken.

use async_trait::async_trait;

use crate::batch::{InboundMessage, MessageOutcome};

/// A permanently rejected message and its outcome.
#[derive(Debug, Clone, Copy)]
pub struct Rejected<'a> {
    /// The message as received.
    pub message: &'a InboundMessage,
    /// Its outcome (a permanent failure).
    pub outcome: &'a MessageOutcome,
}

/// Takes permanently rejected messages off the handler's hands.
#[async_trait]
pub trait RejectionSink: Send + Sync {
    /// Hands over `rejected`; returns the message ids it has durably taken.
    /// Those not returned stay failed and are retried as usual.
    async fn take(&self, rejected: &[Rejected<'_>]) -> Vec<String>;
}
