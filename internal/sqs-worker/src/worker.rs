//! The poll loop: receive, handle, delete what was applied.

use std::future::Future;
use std::time::Duration;

use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use batch_handler::Handler;
use handler_core::{Batch, BatchReport, ConfigSource, EventStore, FailureLog};
use sqs_commands::is_fifo_queue_url;

use crate::received::ReceivedMessage;
use crate::stats::PollStats;

/// How the worker receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Messages per receive, 1 to 10 (default 10, SQS's maximum).
    pub max_messages: i32,
    /// Long-poll wait per receive, 0 to 20 seconds (default 20; use 1 to
    /// notice an empty queue quickly, as `run_until_empty` callers do).
    pub wait_time_seconds: i32,
    /// Visibility timeout asked for on each receive; `None` (default) keeps
    /// the queue's own. A failed message reappears after it.
    pub visibility_timeout: Option<i32>,
    /// First pause of [`Worker::run`] after a failed receive; doubled on
    /// each further failure.
    pub initial_backoff: Duration,
    /// Longest pause after failed receives.
    pub max_backoff: Duration,
}

impl WorkerOptions {
    /// The options with each value brought into the range SQS accepts.
    pub(crate) fn clamped(self) -> Self {
        Self {
            max_messages: self.max_messages.clamp(1, 10),
            wait_time_seconds: self.wait_time_seconds.clamp(0, 20),
            visibility_timeout: self.visibility_timeout.map(|v| v.clamp(0, 43_200)),
            ..self
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            max_messages: 10,
            wait_time_seconds: 20,
            visibility_timeout: None,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Why a poll could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// `ReceiveMessage` failed (network, credentials, missing queue).
    /// [`Worker::run`] logs it and backs off; the other loops return it.
    #[error("ReceiveMessage on {queue_url} failed: {message}")]
    Receive {
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context.
        message: String,
    },
}

/// An applied message that could not be deleted: it will come back, and the
/// handler will then recognise it as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteFailure {
    /// The message.
    pub message_id: String,
    /// SQS's error code (`ReceiptHandleIsInvalid`, ...), `RequestFailed`
    /// when the whole `DeleteMessageBatch` call failed, or
    /// `MissingReceiptHandle`.
    pub code: String,
    /// SQS's message, if any.
    pub message: String,
}

/// Everything one poll did.
#[derive(Debug, Clone, Default)]
pub struct Polled {
    /// The messages received, in order; empty when the queue had none.
    pub messages: Vec<ReceivedMessage>,
    /// The handler's outcome per message (same order).
    pub report: BatchReport,
    /// Applied messages whose delete failed.
    pub delete_failures: Vec<DeleteFailure>,
}

impl Polled {
    /// The counts of this poll.
    pub fn stats(&self) -> PollStats {
        let received = self.messages.len() as u64;
        let applied = self.report.applied() as u64;
        let dead_lettered = self
            .report
            .outcomes
            .iter()
            .filter(|o| o.dead_lettered)
            .count() as u64;
        PollStats {
            batches: u64::from(!self.messages.is_empty()),
            received,
            applied,
            failed: received - applied - dead_lettered,
            dead_lettered,
            delete_failed: self.delete_failures.len() as u64,
        }
    }
}

/// Polls one queue and runs what it receives through a [`Handler`].
#[derive(Debug)]
pub struct Worker<S, C> {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    fifo: bool,
    handler: Handler<S, C>,
    options: WorkerOptions,
}

impl<S: EventStore + FailureLog, C: ConfigSource> Worker<S, C> {
    /// A worker on `queue_url` with default options (10 messages per
    /// receive, 20 s long polling, the queue's visibility timeout).
    pub fn new(
        sqs: aws_sdk_sqs::Client,
        queue_url: impl Into<String>,
        handler: Handler<S, C>,
    ) -> Self {
        let queue_url = queue_url.into();
        Self {
            fifo: is_fifo_queue_url(&queue_url),
            sqs,
            queue_url,
            handler,
            options: WorkerOptions::default(),
        }
    }

    /// Replaces the options. Out-of-range values are clamped to what SQS
    /// accepts.
    pub fn with_options(mut self, options: WorkerOptions) -> Self {
        self.options = options.clamped();
        self
    }

    /// Sets the long-poll wait (0 to 20 seconds).
    pub fn with_wait_time_seconds(self, seconds: i32) -> Self {
        let options = WorkerOptions {
            wait_time_seconds: seconds,
            ..self.options.clone()
        };
        self.with_options(options)
    }

    /// The queue polled.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// True when the queue is FIFO (its URL ends in `.fifo`).
    pub fn is_fifo(&self) -> bool {
        self.fifo
    }

    /// The options in force.
    pub fn options(&self) -> &WorkerOptions {
        &self.options
    }

    /// The handler messages go through.
    pub fn handler(&self) -> &Handler<S, C> {
        &self.handler
    }

    /// One receive; when it brings messages, handles them as one batch and
    /// deletes exactly the applied ones. Returns everything it did.
    pub async fn poll(&self) -> Result<Polled, WorkerError> {
        let messages = self.receive().await?;
        Ok(self.process(messages).await)
    }

    /// Polls until one receive returns no message; returns the sum. Failed
    /// messages are left invisible for the visibility timeout, so they do not
    /// keep the loop going unless that timeout is shorter than a poll.
    pub async fn run_until_empty(&self) -> Result<PollStats, WorkerError> {
        let mut total = PollStats::default();
        loop {
            let polled = self.poll().await?;
            if polled.messages.is_empty() {
                return Ok(total);
            }
            total += polled.stats();
        }
    }

    /// Polls until ctrl-c (SIGINT); returns the sum. A batch being handled
    /// when the signal comes is finished (handled and deleted) first.
    pub async fn run(&self) -> PollStats {
        self.run_until(async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::warn!(error = %e, "cannot listen for ctrl-c; the worker runs until killed");
                std::future::pending::<()>().await;
            }
        })
        .await
    }

    /// Polls until `shutdown` completes; returns the sum. Receive errors are
    /// logged and followed by a pause (doubling from
    /// [`WorkerOptions::initial_backoff`] up to
    /// [`WorkerOptions::max_backoff`]), never fatal. `shutdown` interrupts a
    /// receive or a pause, never a batch being handled.
    async fn run_until<F: Future<Output = ()>>(&self, shutdown: F) -> PollStats {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut total = PollStats::default();
        let mut backoff = self.options.initial_backoff;
        loop {
            let received = tokio::select! {
                biased;
                () = &mut shutdown => break,
                received = self.receive() => received,
            };
            match received {
                Ok(messages) => {
                    backoff = self.options.initial_backoff;
                    if !messages.is_empty() {
                        total += self.process(messages).await.stats();
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                        "receive failed; retrying after a pause"
                    );
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
        total
    }

    /// One `ReceiveMessage`. SQS holds a long poll open for up to its wait
    /// time before answering, so this call's attempt and operation timeouts
    /// are the client's plus that wait.
    async fn receive(&self) -> Result<Vec<ReceivedMessage>, WorkerError> {
        let mut request = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.options.max_messages)
            .wait_time_seconds(self.options.wait_time_seconds)
            .set_visibility_timeout(self.options.visibility_timeout)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .customize();
        if let Some(timeouts) = self.sqs.config().timeout_config() {
            request = request.config_override(
                aws_sdk_sqs::config::Builder::default()
                    .timeout_config(long_poll_timeouts(timeouts, self.options.wait_time_seconds)),
            );
        }
        let output = request.send().await.map_err(|e| WorkerError::Receive {
            queue_url: self.queue_url.clone(),
            message: sdk_error::describe(&e),
        })?;
        Ok(output
            .messages()
            .iter()
            .enumerate()
            .map(|(i, m)| ReceivedMessage::from_sdk(i, m))
            .collect())
    }

    /// Handles received messages as one batch and deletes the applied ones.
    async fn process(&self, messages: Vec<ReceivedMessage>) -> Polled {
        if messages.is_empty() {
            return Polled::default();
        }
        let batch = Batch {
            messages: messages.iter().map(ReceivedMessage::to_inbound).collect(),
            fifo: self.fifo,
            deadline: None,
        };
        let report = self.handler.handle(batch).await;
        let applied: Vec<usize> = report
            .outcomes
            .iter()
            .enumerate()
            .filter(|(_, outcome)| !outcome.must_retry())
            .map(|(i, _)| i)
            .collect();
        let delete_failures = self.delete(&messages, &applied).await;
        let polled = Polled {
            messages,
            report,
            delete_failures,
        };
        let stats = polled.stats();
        tracing::info!(
            queue_url = %self.queue_url,
            received = stats.received,
            applied = stats.applied,
            failed = stats.failed,
            delete_failed = stats.delete_failed,
            "batch handled"
        );
        polled
    }

    /// Deletes `messages[i]` for each `i` of `applied` in one
    /// `DeleteMessageBatch` (entry id = the index), logging every failure.
    async fn delete(&self, messages: &[ReceivedMessage], applied: &[usize]) -> Vec<DeleteFailure> {
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

/// The client's timeouts with the long poll's wait added to the attempt
/// and operation timeouts it has (none stays none).
fn long_poll_timeouts(client: &TimeoutConfig, wait_time_seconds: i32) -> TimeoutConfig {
    let wait = Duration::from_secs(u64::try_from(wait_time_seconds).unwrap_or(0));
    let mut timeouts = client.to_builder();
    if let Some(attempt) = client.operation_attempt_timeout() {
        timeouts = timeouts.operation_attempt_timeout(attempt + wait);
    }
    if let Some(operation) = client.operation_timeout() {
        timeouts = timeouts.operation_timeout(operation + wait);
    }
    timeouts.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_poll_gets_its_wait_on_top_of_the_timeouts() {
        let client = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(5))
            .operation_timeout(Duration::from_secs(15))
            .build();
        let polled = long_poll_timeouts(&client, 20);
        assert_eq!(polled.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(
            polled.operation_attempt_timeout(),
            Some(Duration::from_secs(25))
        );
        assert_eq!(polled.operation_timeout(), Some(Duration::from_secs(35)));
        let connect_only = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .build();
        let polled = long_poll_timeouts(&connect_only, 20);
        assert_eq!(polled.operation_attempt_timeout(), None);
        assert_eq!(polled.operation_timeout(), None);
    }

    #[test]
    fn options_are_clamped_to_what_sqs_accepts() {
        let options = WorkerOptions {
            max_messages: 50,
            wait_time_seconds: -3,
            visibility_timeout: Some(99_999),
            ..WorkerOptions::default()
        }
        .clamped();
        assert_eq!(options.max_messages, 10);
        assert_eq!(options.wait_time_seconds, 0);
        assert_eq!(options.visibility_timeout, Some(43_200));
        let options = WorkerOptions {
            max_messages: 0,
            wait_time_seconds: 21,
            ..WorkerOptions::default()
        }
        .clamped();
        assert_eq!((options.max_messages, options.wait_time_seconds), (1, 20));
    }

    #[test]
    fn stats_of_a_poll() {
        use handler_core::{Applied, Failure, MessageOutcome, Transient};
        let outcome = |id: &str, result: Result<Applied, Failure>| MessageOutcome {
            message_id: id.to_owned(),
            aggregate: None,
            command: None,
            command_id: None,
            result,
            dead_lettered: false,
        };
        let message = |id: &str| ReceivedMessage {
            message_id: id.to_owned(),
            receipt_handle: None,
            body: String::new(),
            message_group_id: None,
            receive_count: Some(1),
        };
        let polled = Polled {
            messages: vec![message("a"), message("b")],
            report: BatchReport {
                outcomes: vec![
                    outcome(
                        "a",
                        Ok(Applied {
                            version: 1,
                            duplicate: false,
                        }),
                    ),
                    outcome("b", Err(Transient::DeadlineReached.into())),
                ],
            },
            delete_failures: Vec::new(),
        };
        assert_eq!(
            polled.stats(),
            PollStats {
                batches: 1,
                received: 2,
                applied: 1,
                failed: 1,
                dead_lettered: 0,
                delete_failed: 0
            }
        );
        assert_eq!(Polled::default().stats(), PollStats::default());
    }
}
