//! [`SqsDeadLetters`]: the [`RejectionSink`] that sends permanently
//! rejected messages to the dead-letter queue at once, with the reason as
//! message attributes (see the crate's documentation for the table).

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use command_messages::chunking::batches;
use command_messages::envelope::fifo_group;
use command_messages::is_fifo_queue_url;
use command_messages::rejection_attributes as attributes;
use handler_core::{Clock, Rejected, RejectionSink, rfc3339_millis};
use sqs_batch::{Outgoing, send_batch};

/// Longest `rejectionReason` attribute kept, in characters.
const MAX_REASON_CHARS: usize = 1000;

/// The dead-letter queue as a rejection sink.
#[derive(Debug, Clone)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
    clock: Arc<dyn Clock>,
}

impl SqsDeadLetters {
    /// Sends to the queue at `queue_url` (FIFO when it ends in `.fifo`);
    /// `clock` dates each copy (`rejectedAt`).
    pub fn new(client: Client, queue_url: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            clock,
        }
    }

    fn copy(&self, rejected: &Rejected<'_>, now: &str) -> Option<Outgoing> {
        let message = rejected.message;
        let outcome = rejected.outcome;
        let failure = outcome.result.as_ref().err()?;
        if message.body.is_empty() {
            // SQS refuses an empty body; the message takes the usual road.
            return None;
        }
        let reason: String = failure.to_string().chars().take(MAX_REASON_CHARS).collect();
        let aggregate = outcome.aggregate.as_ref().map(ToString::to_string);
        let mut copy = Outgoing::new(&message.body)
            .with_attribute(attributes::REJECTION_CODE, failure.code())
            .with_attribute(attributes::REJECTION_REASON, reason)
            .with_attribute(attributes::ORIGINAL_MESSAGE_ID, &message.message_id)
            .with_attribute(attributes::AGGREGATE, aggregate.clone().unwrap_or_default())
            .with_attribute(
                attributes::COMMAND,
                outcome.command.clone().unwrap_or_default(),
            )
            .with_attribute(
                attributes::COMMAND_ID,
                outcome.command_id.clone().unwrap_or_default(),
            )
            .with_attribute(attributes::REJECTED_AT, now);
        if is_fifo_queue_url(&self.queue_url) {
            let group = message
                .message_group_id
                .clone()
                .or_else(|| aggregate.map(|pk| fifo_group(&pk)))
                .unwrap_or_else(|| "rejected".to_owned());
            copy = copy.in_group(group, &message.message_id);
        }
        Some(copy)
    }
}

#[async_trait]
impl RejectionSink for SqsDeadLetters {
    async fn take(&self, rejected: &[Rejected<'_>]) -> Vec<String> {
        let now = rfc3339_millis(self.clock.now());
        let (sources, copies): (Vec<&Rejected<'_>>, Vec<Outgoing>) = rejected
            .iter()
            .filter_map(|r| self.copy(r, &now).map(|copy| (r, copy)))
            .unzip();
        let sizes: Vec<usize> = copies.iter().map(|c| c.body.len()).collect();
        let mut taken = Vec::new();
        for range in batches(&sizes) {
            let start = range.start;
            match send_batch(&self.client, &self.queue_url, &copies[range]).await {
                Ok(answer) => {
                    for (index, _) in &answer.sent {
                        if let Some(r) = sources.get(start + index) {
                            taken.push(r.message.message_id.clone());
                        }
                    }
                    for refused in &answer.refused {
                        tracing::error!(
                            queue = %self.queue_url,
                            entry = %refused.index,
                            code = refused.code,
                            reason = refused.message,
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
