//! Sends permanently rejected messages to the dead-letter queue at once, so
//! a message that can never apply is not received ten times first. Each copy
//! keeps the original body and carries the reason as message attributes:
//!
//! | attribute | value |
//! | --- | --- |
//! | `rejectionCode` | the failure's code (`invalid_transition`, ...) |
//! | `rejectionReason` | the failure's text (never payload values) |
//! | `originalMessageId` | the message id on the source queue (the failure record's key) |
//! | `aggregate`, `command`, `commandId` | when the body could be parsed |
//! | `rejectedAt` | RFC 3339 UTC |
//!
//! A message counts as taken only when `SendMessageBatch` accepted it; any
//! other stays failed and is retried as usual, so nothing is lost.
//!
//! Depends on `handler-core` (the [`RejectionSink`] trait) and
//! `aws-sdk-sqs`.
//!
//! ```no_run
//! # fn demo<S: handler_core::EventStore, C: handler_core::ConfigSource>(
//! #     sqs: aws_sdk_sqs::Client, handler: handler_core::Handler<S, C>) {
//! let dlq = sqs_dead_letter::SqsDeadLetters::new(sqs, "https://sqs.eu-west-1.amazonaws.com/1/commands-dlq");
//! let handler = handler.with_rejection_sink(std::sync::Arc::new(dlq));
//! # let _ = handler; }
//! ```
#![forbid(unsafe_code)]

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use handler_core::{Rejected, RejectionSink, now_rfc3339};

/// SQS allows at most this many entries per `SendMessageBatch`.
const MAX_BATCH: usize = 10;
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
            ("rejectionCode", Some(failure.code().to_owned())),
            ("rejectionReason", Some(reason)),
            ("originalMessageId", Some(message.message_id.clone())),
            ("aggregate", aggregate),
            ("command", outcome.command.clone()),
            ("commandId", outcome.command_id.clone()),
            ("rejectedAt", Some(now.to_owned())),
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
