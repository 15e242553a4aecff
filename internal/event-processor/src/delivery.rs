//! Where events and reactions go: the traits the AWS and local adapters implement.

use std::sync::Arc;

use async_trait::async_trait;
use state_machine::ReactionCommand;

use crate::publication::Publication;

/// One item was not accepted. Always transient: the record is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

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
    async fn send(&self, commands: &[ReactionCommand]) -> Vec<Result<(), DeliveryError>>;
}

#[async_trait]
impl<T: Publisher + ?Sized> Publisher for Arc<T> {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        (**self).publish(items).await
    }
}

#[async_trait]
impl<T: CommandSink + ?Sized> CommandSink for Arc<T> {
    async fn send(&self, commands: &[ReactionCommand]) -> Vec<Result<(), DeliveryError>> {
        (**self).send(commands).await
    }
}
