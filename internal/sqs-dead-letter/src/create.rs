//! The command queue and its dead-letter queue, for emulators and dev
//! accounts: created idempotently, the queue redriving to the DLQ after
//! [`MAX_RECEIVE_COUNT`] receives (docs/reference.md §5), the DLQ keeping a
//! message [`DLQ_RETENTION_SECONDS`]. Production queues come from
//! infrastructure as code.
//!
//! Cost: per queue one `CreateQueue` (plus `GetQueueUrl` and
//! `SetQueueAttributes` when it exists with other attributes), and one
//! `GetQueueAttributes` for the DLQ's ARN.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::json;

use crate::DlqError;

/// Receives before SQS moves a failing message to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 10;
/// How long the dead-letter queue keeps a message: 14 days, SQS's longest.
pub const DLQ_RETENTION_SECONDS: u32 = 1_209_600;

/// The queues' names: `NAME` and `NAME-dlq`, each with `.fifo` for FIFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNames {
    /// The command queue's name.
    pub queue: String,
    /// Its dead-letter queue's name.
    pub dlq: String,
    /// Whether both are FIFO queues.
    pub fifo: bool,
}

impl QueueNames {
    /// From a name and whether FIFO is asked; a name already ending in
    /// `.fifo` makes the queues FIFO too.
    ///
    /// ```
    /// let names = sqs_dead_letter::create::QueueNames::new("commands.fifo", false);
    /// assert_eq!((names.queue.as_str(), names.dlq.as_str()), ("commands.fifo", "commands-dlq.fifo"));
    /// ```
    pub fn new(name: &str, fifo: bool) -> Self {
        let base = name.strip_suffix(".fifo");
        let fifo = fifo || base.is_some();
        let base = base.unwrap_or(name);
        let suffix = if fifo { ".fifo" } else { "" };
        Self {
            queue: format!("{base}{suffix}"),
            dlq: format!("{base}-dlq{suffix}"),
            fifo,
        }
    }
}

/// The URLs of the queues made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    /// The command queue's URL.
    pub queue_url: String,
    /// The dead-letter queue's URL.
    pub dlq_url: String,
}

/// Creates (or brings up to date) the dead-letter queue, then the queue
/// redriving to it after [`MAX_RECEIVE_COUNT`] receives, with
/// `visibility_timeout` seconds.
///
/// # Errors
/// SQS refused a request or could not be reached.
pub async fn create_queues(
    sqs: &Client,
    names: &QueueNames,
    visibility_timeout: u32,
) -> Result<Queues, DlqError> {
    let dlq_url = ensure_queue(
        sqs,
        &names.dlq,
        names.fifo,
        vec![(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| DlqError::sqs("GetQueueAttributes", &dlq_url, e))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| missing("GetQueueAttributes", &dlq_url, "no ARN"))?;
    let redrive = json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    });
    let queue_url = ensure_queue(
        sqs,
        &names.queue,
        names.fifo,
        vec![
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                visibility_timeout.to_string(),
            ),
        ],
    )
    .await?;
    Ok(Queues { queue_url, dlq_url })
}

/// An answer without what it should carry.
fn missing(operation: &'static str, queue: &str, what: &str) -> DlqError {
    DlqError::Sqs {
        operation,
        queue: queue.to_owned(),
        message: format!("SQS gave {what} in its answer"),
        source: None,
    }
}

/// Creates the queue; when one of that name exists with other attributes,
/// sets them on it instead. Returns its URL.
async fn ensure_queue(
    sqs: &Client,
    name: &str,
    fifo: bool,
    attributes: Vec<(QueueAttributeName, String)>,
) -> Result<String, DlqError> {
    let mut create = sqs.create_queue().queue_name(name);
    if fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    for (key, value) in &attributes {
        create = create.attributes(key.clone(), value);
    }
    let exists = match create.send().await {
        Ok(created) => {
            return created
                .queue_url()
                .map(str::to_owned)
                .ok_or_else(|| missing("CreateQueue", name, "no URL"));
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            e
        }
        Err(e) => return Err(DlqError::sqs("CreateQueue", name, e)),
    };
    let reason = sdk_error::describe(&exists);
    tracing::info!(queue = name, %reason, "queue exists; updating its attributes");
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| DlqError::sqs("GetQueueUrl", name, e))?
        .queue_url()
        .map(str::to_owned)
        .ok_or_else(|| missing("GetQueueUrl", name, "no URL"))?;
    let mut set = sqs.set_queue_attributes().queue_url(&url);
    for (key, value) in attributes {
        set = set.attributes(key, value);
    }
    set.send()
        .await
        .map_err(|e| DlqError::sqs("SetQueueAttributes", &url, e))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names() {
        assert_eq!(
            QueueNames::new("commands", false),
            QueueNames {
                queue: "commands".into(),
                dlq: "commands-dlq".into(),
                fifo: false
            }
        );
        assert_eq!(
            QueueNames::new("commands", true),
            QueueNames {
                queue: "commands.fifo".into(),
                dlq: "commands-dlq.fifo".into(),
                fifo: true
            }
        );
        assert_eq!(
            QueueNames::new("commands.fifo", false),
            QueueNames::new("commands", true)
        );
    }
}
