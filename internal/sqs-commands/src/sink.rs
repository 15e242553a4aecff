//! [`SqsCommandSink`]: the event processor's [`CommandSink`]. Each
//! reaction is one command message whose body is the
//! [`DerivedCommand`]'s JSON (docs/reference.md §1), sent in
//! `SendMessageBatch` requests of at most 10 entries and 256 KiB; on a FIFO
//! queue its group is the target aggregate's ([`group_id`]) and its
//! deduplication id is derived from its command id
//! ([`state_machine::ids::deduplication_id`]). The answer is per command.

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use event_processor::{CommandSink, DeliveryError};
use state_machine::DerivedCommand;

use command_messages::chunking::batches;
use command_messages::envelope::group_id;
use command_messages::is_fifo_queue_url;
use sqs_batch::{Outgoing, send_batch};

/// The command queue as the processor's sink.
#[derive(Debug, Clone)]
pub struct SqsCommandSink {
    client: Client,
    queue_url: String,
    fifo: bool,
}

impl SqsCommandSink {
    /// Sends to the queue at `queue_url` (FIFO when it ends in `.fifo`).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        let queue_url = queue_url.into();
        Self {
            fifo: is_fifo_queue_url(&queue_url),
            client,
            queue_url,
        }
    }

    /// The message of one reaction.
    pub fn message(&self, command: &DerivedCommand) -> Result<Outgoing, DeliveryError> {
        let message = Outgoing::new(body(command)?);
        Ok(if self.fifo {
            message.in_group(
                group_id(&command.aggregate_type, &command.aggregate_id),
                state_machine::ids::deduplication_id(&command.command_id),
            )
        } else {
            message
        })
    }
}

/// The message body of a command sent by the event processor (a reaction,
/// or an alarm on any of its paths): its JSON (docs/reference.md §1), with
/// the characters SQS refuses escaped ([`command_messages::sqs_text`]).
pub fn body(command: &DerivedCommand) -> Result<String, DeliveryError> {
    command_messages::sqs_text::json_body(command).map_err(|e| {
        DeliveryError::permanent("the command cannot be written as JSON").with_source(e)
    })
}

#[async_trait]
impl CommandSink for SqsCommandSink {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        let messages: Vec<Result<Outgoing, DeliveryError>> =
            commands.iter().map(|c| self.message(c)).collect();
        self.send_messages(&messages).await
    }
}

impl SqsCommandSink {
    /// True when the queue is FIFO (no per-message delay; groups and
    /// deduplication ids).
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }

    /// Sends prepared messages (from [`SqsCommandSink::message`], perhaps
    /// with a delay) in `SendMessageBatch` requests; one result per item,
    /// in order; an item that is already an error stays that error.
    pub async fn send_messages(
        &self,
        messages: &[Result<Outgoing, DeliveryError>],
    ) -> Vec<Result<(), DeliveryError>> {
        let mut results: Vec<Result<(), DeliveryError>> =
            vec![Err(DeliveryError::transient("not sent")); messages.len()];
        // (index into `messages`, its message) for the items that have one.
        let mut ready = Vec::with_capacity(messages.len());
        for (index, message) in messages.iter().enumerate() {
            match message {
                Ok(message) => ready.push((index, message)),
                Err(e) => results[index] = Err(e.clone()),
            }
        }
        let sizes: Vec<usize> = ready.iter().map(|(_, m)| m.body.len()).collect();
        for range in batches(&sizes) {
            let chunk = &ready[range];
            let outgoing: Vec<Outgoing> = chunk.iter().map(|(_, m)| (*m).clone()).collect();
            match send_batch(&self.client, &self.queue_url, &outgoing).await {
                Ok(answer) => {
                    for (entry, _) in &answer.sent {
                        if let Some((index, _)) = chunk.get(*entry) {
                            results[*index] = Ok(());
                        }
                    }
                    for refused in &answer.refused {
                        if let Some((index, _)) = chunk.get(refused.index) {
                            let reason = format!("SQS refused the command: {refused}");
                            results[*index] = Err(if refused.permanent {
                                DeliveryError::permanent(reason)
                            } else {
                                DeliveryError::transient(reason)
                            });
                        }
                    }
                }
                Err(e) => {
                    let reason = format!("SendMessageBatch failed: {}", sdk_error::describe(&e));
                    let error = DeliveryError::transient(reason).with_source(e);
                    for (index, _) in chunk {
                        results[*index] = Err(error.clone());
                    }
                }
            }
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sqs::config::{BehaviorVersion, Region};
    use serde_json::{Map, Value, json};

    use super::*;

    fn sink(url: &str) -> SqsCommandSink {
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        SqsCommandSink::new(Client::from_conf(config), url)
    }

    fn command() -> DerivedCommand {
        let object = |v: Value| v.as_object().cloned().unwrap_or_else(Map::new);
        DerivedCommand {
            command_id: "order#o-1@1/0".into(),
            aggregate_type: "inventory".into(),
            aggregate_id: "tea".into(),
            command: "Reserve".into(),
            payload: object(json!({"quantity": 2})),
            metadata: object(json!({"correlationId": "c-1", "causationId": "order#o-1@1"})),
        }
    }

    #[test]
    fn the_body_is_the_command_and_fifo_groups_by_the_target_aggregate() {
        let standard = sink("https://sqs.us-east-1.amazonaws.com/1/commands")
            .message(&command())
            .unwrap();
        assert_eq!(standard.fifo, None);
        let body: Value = serde_json::from_str(&standard.body).unwrap();
        assert_eq!(
            body,
            json!({"commandId": "order#o-1@1/0", "aggregateType": "inventory",
                   "aggregateId": "tea", "command": "Reserve", "payload": {"quantity": 2},
                   "metadata": {"correlationId": "c-1", "causationId": "order#o-1@1"}})
        );
        let fifo = sink("https://sqs.us-east-1.amazonaws.com/1/commands.fifo")
            .message(&command())
            .unwrap();
        let ids = fifo.fifo.unwrap();
        assert_eq!(ids.group, "inventory#tea");
        // Pinned: SQS drops a resend by this id within its window.
        assert_eq!(
            ids.deduplication,
            "039a14519a1c47b434ece7adbd9eb5ee267d4a7f56012654a258e7c1b240bfd2"
        );
        assert!(ids.deduplication.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(
            state_machine::ids::deduplication_id("a"),
            state_machine::ids::deduplication_id("b")
        );
    }
}
