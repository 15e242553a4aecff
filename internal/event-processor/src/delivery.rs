//! Where events and reactions go: the traits the AWS and local adapters implement.

use std::sync::Arc;

use async_trait::async_trait;
use state_machine::DerivedCommand;

use crate::publication::Publication;

/// Whether a refusal can pass by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// Sending the same item again can succeed (throttling, an outage, a
    /// missing permission): the record is left unfinished and retried.
    Transient,
    /// The item itself can never be accepted (too large for the bus, a
    /// body or id the service's rules refuse): it is recorded as a failure
    /// with its reason, and the record finishes (its other steps still run).
    Permanent,
}

/// One item was not accepted: why, and whether retrying can help.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}")]
pub struct DeliveryError {
    /// Transient (retried) or permanent (recorded, finished).
    pub kind: DeliveryKind,
    /// Why (never quotes a payload value).
    pub reason: String,
    /// The error underneath, when there is one.
    #[source]
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl PartialEq for DeliveryError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.reason == other.reason
    }
}

impl DeliveryError {
    /// A refusal that may pass: the record is retried.
    pub fn transient(reason: impl Into<String>) -> Self {
        Self {
            kind: DeliveryKind::Transient,
            reason: reason.into(),
            source: None,
        }
    }

    /// A refusal that never passes: recorded as a failure, the record finishes.
    pub fn permanent(reason: impl Into<String>) -> Self {
        Self {
            kind: DeliveryKind::Permanent,
            reason: reason.into(),
            source: None,
        }
    }

    /// The same refusal, keeping `source` as its cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// True when retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        self.kind == DeliveryKind::Permanent
    }
}

/// Publishes events (EventBridge, JSON lines).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `items`; one result per item, in the same order and of the
    /// same length. Chunking and retries are the implementation's.
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>>;
}

/// Delivers reactions (the command queue, or a local handler).
#[async_trait]
pub trait CommandSink: Send + Sync {
    /// Sends `commands`; one result per command, in the same order and of
    /// the same length. Chunking and retries are the implementation's.
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>>;
}

#[async_trait]
impl<T: Publisher + ?Sized> Publisher for Arc<T> {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        (**self).publish(items).await
    }
}

#[async_trait]
impl<T: CommandSink + ?Sized> CommandSink for Arc<T> {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        (**self).send(commands).await
    }
}
