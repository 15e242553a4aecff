//! [`SqsDeadLetters`]: the [`RejectionSink`] that sends permanently
//! rejected messages to the dead-letter queue at once, with the reason as
//! message attributes (see the crate's documentation for the table).

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use handler_core::{Rejected, RejectionSink, now_rfc3339};

use crate::attributes;
use crate::batch::MAX_BATCH;

/// Longest `rejectionReason` attribute kept, in characters.
const MAX_REASON_CHARS: usize = 1000;

/// The dead-letter queue as a rejection sink.
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    /// Sends to the queue at `queue_url` (FIFO when it ends in `.fifo`).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    fn fifo(&self) -> bool {
        self.queue_url.ends_with(".fifo")
    }

    fn entry(
        &self,
        index: usize,
        rejected: &Rejected<'_>,
        now: &str,
    ) -> Option<SendMessageBatchRequestEntry> {
        let message = rejected.message;
        let outcome = rejected.outcome;
        let failure = outcome.result.as_ref().err()?;
        if message.body.is_empty() {
            // SQS refuses an empty body; the message takes the usual road.
            return None;
        }
        let reason: String = failure.to_string().chars().take(MAX_REASON_CHARS).collect();
        let aggregate = outcome.aggregate.as_ref().map(ToString::to_string);
        let attributes = [
            (attributes::REJECTION_CODE, Some(failure.code().to_owned())),
            (attributes::REJECTION_REASON, Some(reason)),
            (
                attributes::ORIGINAL_MESSAGE_ID,
                Some(message.message_id.clone()),
            ),
            (attributes::AGGREGATE, aggregate),
            (attributes::COMMAND, outcome.command.clone()),
            (attributes::COMMAND_ID, outcome.command_id.clone()),
            (attributes::REJECTED_AT, Some(now.to_owned())),
        ];
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(&message.body);
        for (name, value) in attributes {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .ok()?;
                entry = entry.message_attributes(name, attribute);
            }
        }
        if self.fifo() {
            let group = message
                .message_group_id
                .clone()
                .or(aggregate_group(outcome))
                .unwrap_or_else(|| "rejected".to_owned());
            entry = entry
                .message_group_id(group)
                .message_deduplication_id(&message.message_id);
        }
        entry.build().ok()
    }
}

fn aggregate_group(outcome: &handler_core::MessageOutcome) -> Option<String> {
    outcome.aggregate.as_ref().map(ToString::to_string)
}

#[async_trait]
impl RejectionSink for SqsDeadLetters {
    async fn take(&self, rejected: &[Rejected<'_>]) -> Vec<String> {
        let now = now_rfc3339();
        let mut taken = Vec::new();
        for chunk in rejected.chunks(MAX_BATCH) {
            let entries: Vec<(usize, SendMessageBatchRequestEntry)> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, r)| self.entry(i, r, &now).map(|e| (i, e)))
                .collect();
            if entries.is_empty() {
                continue;
            }
            let sent = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries.into_iter().map(|(_, e)| e).collect()))
                .send()
                .await;
            match sent {
                Ok(out) => {
                    for ok in out.successful() {
                        if let Some(r) = ok.id().parse::<usize>().ok().and_then(|i| chunk.get(i)) {
                            taken.push(r.message.message_id.clone());
                        }
                    }
                    for failed in out.failed() {
                        tracing::error!(
                            queue = %self.queue_url,
                            entry = failed.id(),
                            code = failed.code(),
                            reason = failed.message().unwrap_or_default(),
                            "rejection not sent to the dead-letter queue; it will be retried"
                        );
                    }
                }
                Err(e) => tracing::error!(
                    queue = %self.queue_url,
                    error = sdk_error::describe(&e),
                    "rejections not sent to the dead-letter queue; they will be retried"
                ),
            }
        }
        taken
    }
}
