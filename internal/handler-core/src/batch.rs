//! What goes into the handler (a batch of SQS messages) and what comes out
//! (one outcome per message, and the ids to report as failed).

use std::time::Instant;

use crate::failure::Failure;
use crate::failure_log::FailureRecord;
use crate::model::AggregateKey;
use state_machine::Stale;

/// One SQS message, as the handler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// SQS `messageId`: the id reported back on failure.
    pub message_id: String,
    /// The body: a command message (docs/reference.md §1).
    pub body: String,
    /// The FIFO `MessageGroupId`, when the queue is FIFO.
    pub message_group_id: Option<String>,
    /// SQS `ApproximateReceiveCount`, when known (recorded with a failure).
    pub receive_count: Option<u32>,
}

impl InboundMessage {
    /// A message of a standard queue.
    pub fn new(message_id: impl Into<String>, body: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            body: body.into(),
            message_group_id: None,
            receive_count: None,
        }
    }
}

/// One batch, as Lambda's event source mapping or the worker delivers it.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The messages, in delivery order.
    pub messages: Vec<InboundMessage>,
    /// True for a FIFO queue: messages are ordered per message group, and a
    /// group stops at its first failure (docs/reference.md §5).
    pub fifo: bool,
    /// When the invocation must have answered (Lambda's deadline). The
    /// handler starts no new aggregate within the safety margin of it.
    pub deadline: Option<Instant>,
}

impl Batch {
    /// A standard-queue batch without a deadline.
    pub fn standard(messages: Vec<InboundMessage>) -> Self {
        Self {
            messages,
            fifo: false,
            deadline: None,
        }
    }
}

/// A successful outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The aggregate's version after this command.
    pub version: u64,
    /// True when the command id had been applied before (a redelivery): no
    /// new event was written.
    pub duplicate: bool,
    /// `Some` when the command was a fired alarm with no effect (outcome
    /// `stale`): acknowledged, no event written, not a failure.
    pub stale: Option<Stale>,
}

impl Applied {
    /// The outcome's name in logs and output: `applied`, `duplicate` or `stale`.
    pub fn outcome(&self) -> &'static str {
        match (self.stale, self.duplicate) {
            (Some(_), _) => "stale",
            (None, true) => "duplicate",
            (None, false) => "applied",
        }
    }
}

/// What happened to one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageOutcome {
    /// SQS message id.
    pub message_id: String,
    /// The aggregate, when the body could be parsed.
    pub aggregate: Option<AggregateKey>,
    /// The command name, when the body could be parsed.
    pub command: Option<String>,
    /// The command id, when the body could be parsed.
    pub command_id: Option<String>,
    /// Applied, or why not.
    pub result: Result<Applied, Failure>,
    /// True when the message was permanently rejected and handed to the
    /// rejection sink (the dead-letter queue) at once: it is done, not
    /// retried.
    pub dead_lettered: bool,
}

impl MessageOutcome {
    /// True when the message must come back (reported in
    /// `batchItemFailures`): it failed and was not dead-lettered at once.
    pub fn must_retry(&self) -> bool {
        self.result.is_err() && !self.dead_lettered
    }
}

impl MessageOutcome {
    /// The record of this outcome for the failure log, when it is a failure.
    pub fn failure_record(&self, message: &InboundMessage, now: &str) -> Option<FailureRecord> {
        let failure = self.result.as_ref().err()?;
        Some(FailureRecord {
            message_id: self.message_id.clone(),
            aggregate: self.aggregate.clone(),
            command: self.command.clone(),
            command_id: self.command_id.clone(),
            code: failure.code().to_owned(),
            reason: failure.to_string(),
            permanent: failure.is_permanent(),
            receive_count: message.receive_count,
            failed_at: now.to_owned(),
        })
    }

    /// Writes the one structured log line of this outcome. Never logs the
    /// payload.
    pub fn log(&self) {
        let aggregate = self.aggregate.as_ref().map(ToString::to_string);
        let aggregate = aggregate.as_deref().unwrap_or("");
        let command = self.command.as_deref().unwrap_or("");
        let command_id = self.command_id.as_deref().unwrap_or("");
        match &self.result {
            Ok(applied) => tracing::info!(
                target: "command_handler::outcome",
                message_id = %self.message_id,
                aggregate,
                command,
                command_id,
                outcome = applied.outcome(),
                version = applied.version,
                stale_reason = applied.stale.map(|why| why.to_string()),
                "message {}",
                applied.outcome()
            ),
            Err(failure) => tracing::warn!(
                target: "command_handler::outcome",
                message_id = %self.message_id,
                aggregate,
                command,
                command_id,
                outcome = match (failure.is_permanent(), self.dead_lettered) {
                    (true, true) => "dead_lettered",
                    (true, false) => "rejected",
                    _ => "failed",
                },
                permanent = failure.is_permanent(),
                reason_code = failure.code(),
                reason = %failure,
                "message failed"
            ),
        }
    }
}

/// The handler's answer for a batch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchReport {
    /// One outcome per message, in the batch's order.
    pub outcomes: Vec<MessageOutcome>,
}

impl BatchReport {
    /// The message ids that must come back (Lambda's `batchItemFailures`).
    pub fn failed_message_ids(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .filter(|o| o.must_retry())
            .map(|o| o.message_id.clone())
            .collect()
    }

    /// The messages that are done (to delete from the queue): applied, or
    /// dead-lettered at once.
    pub fn done_message_ids(&self) -> Vec<String> {
        self.outcomes
            .iter()
            .filter(|o| !o.must_retry())
            .map(|o| o.message_id.clone())
            .collect()
    }

    /// How many messages had their full effect.
    pub fn applied(&self) -> usize {
        self.outcomes.iter().filter(|o| o.result.is_ok()).count()
    }
}
