//! SQS's own redrive: a message move task from the DLQ back to its source
//! queue, run by the service. Not every SQS has it (moto answers HTTP 500),
//! so [`Redrive`](crate::Redrive) tries it and falls back on an error.
//!
//! A moved message gets a new message id, and the handler takes the
//! message id as the idempotency key of a body without `commandId`. So the
//! task is used only when [`unsafe_for`] finds nothing against it: every
//! message of the DLQ was listed and every body carries its `commandId`.
//! Otherwise [`Redrive`](crate::Redrive) sends then deletes, writing the
//! original message id into each body that lacks one.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::retry::RetryConfig;

use crate::{DeadLetter, DlqError, Progress, queues};

/// A started move task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTask {
    /// The task's handle (what `CancelMessageMoveTask` takes).
    pub handle: String,
    /// The DLQ's ARN (what `ListMessageMoveTasks` takes).
    pub dlq_arn: String,
}

/// How a move task stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoveTaskStatus {
    /// `RUNNING`, `COMPLETED`, `CANCELLING`, `CANCELLED` or `FAILED`.
    pub status: String,
    /// Messages moved so far.
    pub moved: i64,
    /// Messages to move, as counted when the task started.
    pub to_move: Option<i64>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
}

impl MoveTaskStatus {
    /// True once the task no longer runs.
    pub fn is_finished(&self) -> bool {
        !matches!(self.status.as_str(), "RUNNING" | "CANCELLING")
    }
}

/// Why the move task must not move these messages, or `None` when it
/// keeps every idempotency key. `letters` is a listing of the whole DLQ,
/// `fifo` whether the DLQ is FIFO, and `unlisted` how many messages SQS
/// counted in flight or delayed after the listing (they would move
/// unchecked).
///
/// The listing and the task's start are two calls: a message dead-lettered
/// between them moves unchecked too. Such a message has just been
/// dead-lettered, so its key has no record (short of ten lost deletes after
/// it applied: every receive after an apply is a success) and a new key
/// doubles nothing.
pub fn unsafe_for(letters: &[DeadLetter], fifo: bool, unlisted: u64) -> Option<String> {
    if fifo {
        return Some(
            "a FIFO dead-letter queue cannot be listed whole without consuming it, so not every commandId can be checked"
                .to_owned(),
        );
    }
    if unlisted > 0 {
        return Some(format!(
            "{unlisted} message(s) in flight or delayed could not be checked for a commandId"
        ));
    }
    let without = letters
        .iter()
        .filter(|l| l.body_fields().command_id.is_none_or(|id| id.is_empty()))
        .count();
    (without > 0).then(|| {
        format!(
            "{without} of {} message(s) carry no commandId, and a moved message gets a new message id, which would become its idempotency key",
            letters.len()
        )
    })
}

/// Starts moving every message of the DLQ to `source_url`. Asked once,
/// without the SDK's retries: an error means "do it another way".
pub async fn start(client: &Client, dlq_url: &str, source_url: &str) -> Result<MoveTask, DlqError> {
    let dlq_arn = queues::queue_arn(client, dlq_url).await?;
    let source_arn = queues::queue_arn(client, source_url).await?;
    let out = client
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&source_arn)
        .customize()
        .config_override(
            aws_sdk_sqs::config::Builder::default().retry_config(RetryConfig::disabled()),
        )
        .send()
        .await
        .map_err(|e| DlqError::sqs("StartMessageMoveTask", dlq_url, e))?;
    Ok(MoveTask {
        handle: out.task_handle().unwrap_or_default().to_owned(),
        dlq_arn,
    })
}

/// The DLQ's most recent move task, `None` when SQS lists none.
pub async fn latest(client: &Client, task: &MoveTask) -> Result<Option<MoveTaskStatus>, DlqError> {
    let out = client
        .list_message_move_tasks()
        .source_arn(&task.dlq_arn)
        .max_results(1)
        .send()
        .await
        .map_err(|e| DlqError::sqs("ListMessageMoveTasks", &task.dlq_arn, e))?;
    Ok(out.results().first().map(|t| MoveTaskStatus {
        status: t.status().unwrap_or("UNKNOWN").to_owned(),
        moved: t.approximate_number_of_messages_moved(),
        to_move: t.approximate_number_of_messages_to_move(),
        failure_reason: t.failure_reason().map(str::to_owned),
    }))
}

/// Polls the task every `every` until it no longer runs.
pub async fn wait(
    client: &Client,
    task: &MoveTask,
    every: Duration,
    progress: &dyn Progress,
) -> Result<MoveTaskStatus, DlqError> {
    let mut reported = 0;
    loop {
        let status = latest(client, task).await?.unwrap_or(MoveTaskStatus {
            status: "UNKNOWN".to_owned(),
            moved: 0,
            to_move: None,
            failure_reason: None,
        });
        if let Some(total) = status.to_move {
            progress.set_total(u64::try_from(total).unwrap_or(0));
        }
        let moved = u64::try_from(status.moved).unwrap_or(0);
        progress.advance(moved.saturating_sub(reported));
        reported = reported.max(moved);
        if status.is_finished() {
            return Ok(status);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn letter(id: &str, body: &str) -> DeadLetter {
        DeadLetter {
            message_id: id.to_owned(),
            receipt_handle: format!("rh-{id}"),
            body: body.to_owned(),
            message_attributes: HashMap::new(),
            receive_count: Some(10),
            sent_timestamp_ms: None,
            first_receive_timestamp_ms: None,
            message_group_id: None,
        }
    }

    const WITH_ID: &str =
        r#"{"commandId":"c-1","aggregateType":"order","aggregateId":"o-1","command":"C"}"#;
    const WITHOUT_ID: &str = r#"{"aggregateType":"order","aggregateId":"o-1","command":"C"}"#;

    #[test]
    fn the_move_task_only_when_every_listed_body_carries_its_command_id() {
        let all_keyed = [letter("m-1", WITH_ID), letter("m-2", WITH_ID)];
        assert_eq!(unsafe_for(&all_keyed, false, 0), None);
        assert_eq!(unsafe_for(&[], false, 0), None, "nothing to move");

        for other in [
            WITHOUT_ID,
            r#"{"commandId":null,"aggregateType":"order"}"#,
            r#"{"commandId":""}"#,
            "{not json",
        ] {
            let mixed = [letter("m-1", WITH_ID), letter("m-2", other)];
            let why = unsafe_for(&mixed, false, 0).expect(other);
            assert!(
                why.starts_with("1 of 2 message(s) carry no commandId"),
                "{why}"
            );
        }
        let why = unsafe_for(&all_keyed, false, 3).expect("unlisted messages");
        assert!(why.contains("3 message(s) in flight"), "{why}");
        let why = unsafe_for(&all_keyed, true, 0).expect("FIFO");
        assert!(why.contains("FIFO"), "{why}");
    }
}
