//! Which queue is whose dead-letter queue, how deep a queue is, and purge.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use crate::DlqError;

/// The queue's name: the last segment of its URL.
///
/// ```
/// assert_eq!(sqs_dead_letter::queues::queue_name("http://127.0.0.1:5000/123456789012/commands-dlq"), "commands-dlq");
/// ```
pub fn queue_name(queue_url: &str) -> &str {
    let url = queue_url.trim_end_matches('/');
    url.rsplit('/').next().unwrap_or(url)
}

pub use command_messages::is_fifo_queue_url as is_fifo;

/// The account and name in a queue ARN (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
///
/// ```
/// assert_eq!(
///     sqs_dead_letter::queues::arn_account_and_name("arn:aws:sqs:us-east-1:123456789012:q-dlq"),
///     Some(("123456789012", "q-dlq"))
/// );
/// ```
pub fn arn_account_and_name(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] if !name.is_empty() => Some((account, name)),
        _ => None,
    }
}

/// One attribute of a queue, `None` when SQS does not report it.
pub async fn attribute(
    client: &Client,
    queue_url: &str,
    name: QueueAttributeName,
) -> Result<Option<String>, DlqError> {
    let out = client
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(name.clone())
        .send()
        .await
        .map_err(|e| DlqError::sqs("GetQueueAttributes", queue_url, e))?;
    Ok(out.attributes().and_then(|a| a.get(&name)).cloned())
}

/// The queue's ARN.
pub async fn queue_arn(client: &Client, queue_url: &str) -> Result<String, DlqError> {
    attribute(client, queue_url, QueueAttributeName::QueueArn)
        .await?
        .ok_or_else(|| DlqError::Sqs {
            operation: "GetQueueAttributes",
            queue: queue_url.to_owned(),
            message: "no QueueArn in the answer".to_owned(),
            source: None,
        })
}

/// SQS's approximate count of the messages available (not in flight).
pub async fn approximate_visible(client: &Client, queue_url: &str) -> Result<u64, DlqError> {
    Ok(attribute(
        client,
        queue_url,
        QueueAttributeName::ApproximateNumberOfMessages,
    )
    .await?
    .and_then(|n| n.parse().ok())
    .unwrap_or(0))
}

/// SQS's approximate count of the messages in flight or delayed (which a
/// receive cannot see).
pub async fn approximate_hidden(client: &Client, queue_url: &str) -> Result<u64, DlqError> {
    let mut hidden = 0;
    for name in [
        QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        QueueAttributeName::ApproximateNumberOfMessagesDelayed,
    ] {
        hidden += attribute(client, queue_url, name)
            .await?
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(hidden)
}

/// The URL of the source queue's DLQ: its `RedrivePolicy`'s
/// `deadLetterTargetArn`, looked up by name (and account).
pub async fn dead_letter_queue_of(client: &Client, source_url: &str) -> Result<String, DlqError> {
    let policy = attribute(client, source_url, QueueAttributeName::RedrivePolicy)
        .await?
        .filter(|p| !p.is_empty())
        .ok_or_else(|| DlqError::NoRedrivePolicy {
            queue: source_url.to_owned(),
        })?;
    let bad = |detail: &str| DlqError::BadRedrivePolicy {
        queue: source_url.to_owned(),
        detail: detail.to_owned(),
    };
    let policy: Value = serde_json::from_str(&policy).map_err(|e| bad(&e.to_string()))?;
    let arn = policy
        .get("deadLetterTargetArn")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no deadLetterTargetArn"))?;
    let (account, name) =
        arn_account_and_name(arn).ok_or_else(|| bad(&format!("`{arn}` is not a queue ARN")))?;
    let out = client
        .get_queue_url()
        .queue_name(name)
        .queue_owner_aws_account_id(account)
        .send()
        .await
        .map_err(|e| DlqError::sqs("GetQueueUrl", arn, e))?;
    out.queue_url()
        .map(str::to_owned)
        .ok_or_else(|| DlqError::Sqs {
            operation: "GetQueueUrl",
            queue: arn.to_owned(),
            message: "no QueueUrl in the answer".to_owned(),
            source: None,
        })
}

/// Every queue that uses `dlq_url` as its DLQ
/// (`ListDeadLetterSourceQueues`); empty when it is no queue's DLQ.
pub async fn source_queues_of(client: &Client, dlq_url: &str) -> Result<Vec<String>, DlqError> {
    let mut sources = Vec::new();
    let mut pages = client
        .list_dead_letter_source_queues()
        .queue_url(dlq_url)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| DlqError::sqs("ListDeadLetterSourceQueues", dlq_url, e))?;
        sources.extend(page.queue_urls().iter().cloned());
    }
    Ok(sources)
}

/// The queues that use `dlq_url` as their DLQ, or
/// [`DlqError::NoSourceQueue`] when there are none: what is about to be
/// purged or redriven may then be a live queue (a command queue's URL given
/// as the DLQ's), and is refused.
pub async fn ensure_dead_letter_queue(
    client: &Client,
    dlq_url: &str,
) -> Result<Vec<String>, DlqError> {
    let sources = source_queues_of(client, dlq_url).await?;
    if sources.is_empty() {
        return Err(DlqError::NoSourceQueue {
            dlq: dlq_url.to_owned(),
        });
    }
    Ok(sources)
}

/// The one queue that uses `dlq_url` as its DLQ
/// (`ListDeadLetterSourceQueues`).
pub async fn source_queue_of(client: &Client, dlq_url: &str) -> Result<String, DlqError> {
    let mut sources = ensure_dead_letter_queue(client, dlq_url).await?;
    if sources.len() == 1 {
        return Ok(sources.remove(0));
    }
    Err(DlqError::SeveralSourceQueues {
        dlq: dlq_url.to_owned(),
        queues: sources.join(", "),
    })
}

/// Deletes every message of the dead-letter queue (`PurgeQueue`; SQS may
/// take up to a minute, and allows one purge a minute). Refuses a queue
/// that is no queue's DLQ ([`ensure_dead_letter_queue`]): a mistyped URL
/// must not empty a live queue.
pub async fn purge(client: &Client, dlq_url: &str) -> Result<(), DlqError> {
    ensure_dead_letter_queue(client, dlq_url).await?;
    client
        .purge_queue()
        .queue_url(dlq_url)
        .send()
        .await
        .map_err(|e| DlqError::sqs("PurgeQueue", dlq_url, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert_eq!(
            queue_name("https://sqs.eu-west-1.amazonaws.com/1/q.fifo/"),
            "q.fifo"
        );
        assert!(is_fifo("https://sqs.eu-west-1.amazonaws.com/1/q.fifo"));
        assert!(!is_fifo("https://sqs.eu-west-1.amazonaws.com/1/q"));
        assert_eq!(arn_account_and_name("arn:aws:sqs:r:1"), None);
        assert_eq!(arn_account_and_name("arn:aws:sns:r:1:t"), None);
        assert_eq!(
            arn_account_and_name("arn:aws-cn:sqs:cn-north-1:2:q.fifo"),
            Some(("2", "q.fifo"))
        );
    }
}
