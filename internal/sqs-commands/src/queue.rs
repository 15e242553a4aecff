//! [`SqsCommandQueue`]: the HTTP API's [`CommandQueue`] on SQS. `POST
//! /commands` without `Prefer: wait` puts its command here with one
//! `SendMessage`: the body as the API gives it (its `commandId` written
//! in), with the characters SQS refuses escaped
//! ([`command_messages::sqs_text::sqs_safe`], a no-op for ordinary text);
//! on a FIFO queue its group is the aggregate's
//! ([`group_id`](command_messages::envelope::group_id)) and its deduplication
//! id is derived from its command id
//! ([`state_machine::ids::deduplication_id`]), as for the reactions the
//! event processor sends. An SDK error becomes a [`QueueError`] that keeps
//! it as its source.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use handler_core::envelope::Command;
use handler_core::{CommandQueue, QueueError};

use command_messages::envelope::group_id;
use command_messages::is_fifo_queue_url;
use command_messages::sqs_text::sqs_safe;

/// The command queue as the HTTP API's queue.
#[derive(Debug, Clone)]
pub struct SqsCommandQueue {
    client: Client,
    queue_url: String,
    fifo: bool,
}

/// What a FIFO queue needs with a command: (message group, deduplication id).
pub fn fifo_ids(command: &Command) -> (String, String) {
    (
        group_id(&command.key.aggregate_type, &command.key.aggregate_id),
        state_machine::ids::deduplication_id(&command.command_id),
    )
}

impl SqsCommandQueue {
    /// Sends to the queue at `queue_url` (FIFO when it ends in `.fifo`).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        Self {
            fifo: is_fifo_queue_url(&queue_url),
            client,
            queue_url,
        }
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// True when the queue is FIFO.
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }
}

#[async_trait]
impl CommandQueue for SqsCommandQueue {
    async fn enqueue(&self, command: &Command, body: &str) -> Result<(), QueueError> {
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(sqs_safe(body));
        if self.fifo {
            let (group, deduplication) = fifo_ids(command);
            send = send
                .message_group_id(group)
                .message_deduplication_id(deduplication);
        }
        send.send().await.map(|_| ()).map_err(|e| {
            QueueError::unavailable(format!("SendMessage failed: {}", sdk_error::describe(&e)))
                .with_source(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use handler_core::parse_command;

    use super::*;

    #[test]
    fn fifo_ids_are_the_aggregate_group_and_the_hashed_command_id() {
        let command = parse_command(
            r#"{"commandId":"c 1","aggregateType":"order","aggregateId":"o-1","command":"Create"}"#,
            "m-1",
        )
        .unwrap();
        let (group, deduplication) = fifo_ids(&command);
        assert_eq!(group, "order#o-1");
        assert_eq!(deduplication, state_machine::ids::deduplication_id("c 1"));
        // The same ids the event processor's sink gives a command to o-1.
        assert_eq!(group, group_id("order", "o-1"));
        assert_eq!(deduplication.len(), 64);
    }
}
