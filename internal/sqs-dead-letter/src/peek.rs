//! Listing a dead-letter queue without consuming it: receive with a short
//! visibility timeout until no new message comes, then make every message
//! received visible again.
//!
//! Each receive counts in a message's `ApproximateReceiveCount`. On a FIFO
//! queue SQS hands out no more messages of a group while some are in
//! flight, so a listing sees at most one receive's worth (10) of each group.

use std::collections::HashMap;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};

use crate::{DeadLetter, DlqError, Progress, queues};
use command_messages::chunking::MAX_BATCH;

/// How a listing receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekOptions {
    /// How long each received message stays hidden, in seconds: the time
    /// the listing may take before messages come round again (they are
    /// then recognised, not listed twice). Default 30.
    pub visibility_timeout: i32,
    /// Long-poll wait of each receive, in seconds. Default 1 (a short poll
    /// may miss messages of a small queue).
    pub wait_time_seconds: i32,
    /// Stop after this many messages. Default: no limit.
    pub limit: Option<usize>,
}

impl Default for PeekOptions {
    fn default() -> Self {
        Self {
            visibility_timeout: 30,
            wait_time_seconds: 1,
            limit: None,
        }
    }
}

/// The messages of the queue, in the order received, every one visible
/// again when this returns (also when it fails).
pub async fn peek(
    client: &Client,
    queue_url: &str,
    options: &PeekOptions,
    progress: &dyn Progress,
) -> Result<Vec<DeadLetter>, DlqError> {
    let estimate = queues::approximate_visible(client, queue_url).await?;
    progress.set_total(options.limit.map_or(estimate, |l| estimate.min(l as u64)));
    let mut found: Vec<DeadLetter> = Vec::new();
    let collected = collect(client, queue_url, options, progress, &mut found).await;
    let released = release(client, queue_url, &found).await;
    collected?;
    if let Err(e) = released {
        tracing::warn!(
            queue = queue_url,
            error = %e,
            "listed messages stay hidden until their visibility timeout ends"
        );
    }
    Ok(found)
}

async fn collect(
    client: &Client,
    queue_url: &str,
    options: &PeekOptions,
    progress: &dyn Progress,
    found: &mut Vec<DeadLetter>,
) -> Result<(), DlqError> {
    let mut index: HashMap<String, usize> = HashMap::new();
    loop {
        let room = options
            .limit
            .map_or(MAX_BATCH, |l| l.saturating_sub(found.len()));
        if room == 0 {
            return Ok(());
        }
        let received = receive(
            client,
            queue_url,
            room.min(MAX_BATCH),
            options.visibility_timeout,
            options.wait_time_seconds,
        )
        .await?;
        let mut new = 0;
        for letter in received {
            match index.get(&letter.message_id) {
                // Come round again: keep the newest receipt handle.
                Some(&i) => found[i] = letter,
                None => {
                    index.insert(letter.message_id.clone(), found.len());
                    found.push(letter);
                    new += 1;
                }
            }
        }
        if new == 0 {
            return Ok(());
        }
        progress.advance(new as u64);
    }
}

/// One `ReceiveMessage` of up to `max` (1 to 10) messages with every
/// system and message attribute.
pub async fn receive(
    client: &Client,
    queue_url: &str,
    max: usize,
    visibility_timeout: i32,
    wait_time_seconds: i32,
) -> Result<Vec<DeadLetter>, DlqError> {
    let out = client
        .receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
        .visibility_timeout(visibility_timeout)
        .wait_time_seconds(wait_time_seconds)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .send()
        .await
        .map_err(|e| DlqError::sqs("ReceiveMessage", queue_url, e))?;
    Ok(out
        .messages()
        .iter()
        .filter_map(DeadLetter::from_sdk)
        .collect())
}

/// Makes the messages visible again at once (visibility timeout 0), by
/// their latest receipt handles. Fails on the first request SQS refuses;
/// entries it refuses one by one are logged.
pub async fn release(
    client: &Client,
    queue_url: &str,
    letters: &[DeadLetter],
) -> Result<(), DlqError> {
    for chunk in letters.chunks(MAX_BATCH) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, letter)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&letter.receipt_handle)
                    .visibility_timeout(0)
                    .build()
                    .ok()
            })
            .collect();
        let out = client
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| DlqError::sqs("ChangeMessageVisibilityBatch", queue_url, e))?;
        for failed in out.failed() {
            tracing::warn!(
                queue = queue_url,
                entry = failed.id(),
                code = failed.code(),
                reason = failed.message().unwrap_or_default(),
                "a message stays hidden until its visibility timeout ends"
            );
        }
    }
    Ok(())
}
