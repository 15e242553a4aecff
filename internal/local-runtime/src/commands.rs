//! Commands through the handler as SQS would deliver them: batches of up to
//! [`BATCH_SIZE`], a transient failure delivered again up to [`ATTEMPTS`]
//! times in all, a permanent refusal final at once.

use event_processor::DerivedCommand;
use handler_core::{Batch, InboundMessage, MessageOutcome};

use crate::runtime::LocalHandler;

/// Commands per handler batch: SQS's largest batch.
pub(crate) const BATCH_SIZE: usize = 10;

/// How many times a command that failed transiently is run in all within
/// its round (SQS would deliver it again).
pub(crate) const ATTEMPTS: usize = 3;

/// Runs the commands; returns each one's last outcome.
pub(crate) async fn run_commands(
    handler: &LocalHandler,
    commands: &[DerivedCommand],
) -> Vec<MessageOutcome> {
    run_messages(handler, commands.iter().map(message).collect()).await
}

/// [`run_commands`] over messages already built.
pub(crate) async fn run_messages(
    handler: &LocalHandler,
    messages: Vec<InboundMessage>,
) -> Vec<MessageOutcome> {
    let mut outcomes = Vec::with_capacity(messages.len());
    for chunk in messages.chunks(BATCH_SIZE) {
        let mut pending: Vec<InboundMessage> = chunk.to_vec();
        for attempt in 1..=ATTEMPTS {
            let report = handler.handle(Batch::standard(pending.clone())).await;
            let (retry, done): (Vec<_>, Vec<_>) = report.outcomes.into_iter().partition(|o| {
                let transient = o.result.as_ref().is_err_and(|f| !f.is_permanent());
                transient && o.must_retry() && attempt < ATTEMPTS
            });
            outcomes.extend(done);
            pending.retain(|m| retry.iter().any(|o| o.message_id == m.message_id));
            if pending.is_empty() {
                break;
            }
        }
    }
    outcomes
}

/// A command as the message SQS would deliver: its body is the command
/// message, its id the command's.
fn message(command: &DerivedCommand) -> InboundMessage {
    // A map of strings and JSON values always serializes.
    let body = serde_json::to_string(command).unwrap_or_default();
    InboundMessage::new(command.command_id.clone(), body)
}
