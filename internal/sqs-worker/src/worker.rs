//! The poll loop: receive, handle, delete what was applied.

use std::future::Future;

use batch_handler::Handler;
use command_messages::is_fifo_queue_url;
use handler_core::{Batch, BatchReport, ConfigSource, EventStore, FailureLog};

use crate::errors::{DeleteFailure, WorkerError};
use crate::options::WorkerOptions;
use crate::received::ReceivedMessage;
use crate::stats::PollStats;

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
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) queue_url: String,
    fifo: bool,
    handler: Handler<S, C>,
    pub(crate) options: WorkerOptions,
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
                            stale: None,
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
