//! Acknowledging: the applied messages deleted in one `DeleteMessageBatch`,
//! and what could not be deleted.

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;

use crate::errors::DeleteFailure;
use crate::received::ReceivedMessage;
use crate::worker::Worker;

impl<S, C> Worker<S, C> {
    /// Deletes `messages[i]` for each `i` of `applied` in one
    /// `DeleteMessageBatch` (entry id = the index), logging every failure.
    pub(crate) async fn delete(
        &self,
        messages: &[ReceivedMessage],
        applied: &[usize],
    ) -> Vec<DeleteFailure> {
        let mut failures = Vec::new();
        let mut entries = Vec::with_capacity(applied.len());
        for &i in applied {
            let message = &messages[i];
            let entry = message.receipt_handle.as_ref().and_then(|handle| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            });
            match entry {
                Some(entry) => entries.push(entry),
                None => failures.push(DeleteFailure {
                    message_id: message.message_id.clone(),
                    code: "MissingReceiptHandle".to_owned(),
                    message: "SQS delivered the message without a receipt handle".to_owned(),
                }),
            }
        }
        if !entries.is_empty() {
            let ids: Vec<usize> = entries.iter().filter_map(|e| e.id().parse().ok()).collect();
            match self
                .sqs
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(output) => {
                    for failed in output.failed() {
                        let message_id = failed
                            .id()
                            .parse::<usize>()
                            .ok()
                            .and_then(|i| messages.get(i))
                            .map_or_else(|| failed.id().to_owned(), |m| m.message_id.clone());
                        failures.push(DeleteFailure {
                            message_id,
                            code: failed.code().to_owned(),
                            message: failed.message().unwrap_or_default().to_owned(),
                        });
                    }
                }
                Err(e) => {
                    let reason = sdk_error::describe(&e);
                    failures.extend(ids.iter().map(|&i| DeleteFailure {
                        message_id: messages[i].message_id.clone(),
                        code: "RequestFailed".to_owned(),
                        message: reason.clone(),
                    }));
                }
            }
        }
        for failure in &failures {
            tracing::error!(
                queue_url = %self.queue_url,
                message_id = %failure.message_id,
                code = %failure.code,
                reason = %failure.message,
                "applied message not deleted; it will be redelivered and recognised as a duplicate"
            );
        }
        failures
    }
}
