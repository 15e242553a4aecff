//! SQS's own redrive: a message move task from the DLQ back to its source
//! queue, run by the service. Not every SQS has it (moto answers HTTP 500),
//! so [`Redrive`](crate::Redrive) tries it and falls back on an error.

use std::time::Duration;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::retry::RetryConfig;

use crate::{DlqError, Progress, queues};

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
        .map_err(|e| DlqError::sqs("StartMessageMoveTask", dlq_url, &e))?;
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
        .map_err(|e| DlqError::sqs("ListMessageMoveTasks", &task.dlq_arn, &e))?;
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
