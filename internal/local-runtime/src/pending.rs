//! The reactions the local run owes (docs/event-processor.md, "Locally"):
//! the embedded processor's sink ([`KeepInStore`]) keeps each built reaction
//! in the store's pending reactions before the checkpoint moves past its
//! event, and [`run_pending`] runs them from there. A reaction whose outcome
//! is final (applied, duplicate, stale or refused) is removed; one that
//! still fails transiently after the retries the runtime makes stays kept,
//! is not run again in this run, and is noticed in the report: the next run
//! runs it again. So no reaction is lost to a transient failure, a crash
//! between the checkpoint and the reactions included.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use event_processor::{CommandSink, DeliveryError, DerivedCommand};
use handler_core::InboundMessage;
use store_sqlite::{PendingReaction, SqliteStore};

use crate::commands::run_messages;
use crate::error::RuntimeError;
use crate::report::{Notice, Origin, Report, aggregate_of};
use crate::runtime::LocalHandler;

/// Pending reactions read (and run) at a time.
const READ_AT_ONCE: usize = 100;

/// The command ids left for the next run in this one.
pub(crate) type LeftPending = HashSet<String>;

/// The local processor's sink: every reaction sent is kept in the store,
/// all of a call or none (a call the store refuses leaves the events
/// unfinished, so the checkpoint does not move past them).
#[derive(Debug)]
pub(crate) struct KeepInStore {
    store: Arc<SqliteStore>,
}

impl KeepInStore {
    pub(crate) fn new(store: Arc<SqliteStore>) -> Self {
        Self { store }
    }
}

#[async_trait]
impl CommandSink for KeepInStore {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        let kept: Vec<PendingReaction> = commands
            .iter()
            .map(|command| PendingReaction {
                command_id: command.command_id.clone(),
                // A map of strings and JSON values always serializes.
                body: serde_json::to_string(command).unwrap_or_default(),
            })
            .collect();
        match self.store.keep_reactions(&kept) {
            Ok(()) => vec![Ok(()); commands.len()],
            Err(err) => {
                let err =
                    DeliveryError::transient("the reaction could not be kept").with_source(err);
                vec![Err(err); commands.len()]
            }
        }
    }
}

/// Runs the pending reactions (but those left in this run), in the order
/// kept, counting each outcome in `totals`; returns how many ran.
pub(crate) async fn run_pending(
    handler: &LocalHandler,
    store: &SqliteStore,
    left: &mut LeftPending,
    totals: &mut Report,
) -> Result<usize, RuntimeError> {
    let mut ran = 0;
    loop {
        let pending = store
            .pending_reactions(READ_AT_ONCE, |id| left.contains(id))
            .map_err(|source| RuntimeError::Pending {
                action: "read",
                source,
            })?;
        if pending.is_empty() {
            return Ok(ran);
        }
        let messages: Vec<InboundMessage> = pending
            .into_iter()
            .map(|r| InboundMessage::new(r.command_id, r.body))
            .collect();
        ran += messages.len();
        let mut unanswered: HashSet<String> =
            messages.iter().map(|m| m.message_id.clone()).collect();
        for outcome in run_messages(handler, messages).await {
            unanswered.remove(&outcome.message_id);
            totals.count(Origin::Reaction, &outcome);
            let transient = outcome.result.as_ref().is_err_and(|f| !f.is_permanent());
            if transient {
                totals.notices.push(Notice::ReactionKept {
                    message_id: outcome.message_id.clone(),
                    aggregate: aggregate_of(&outcome),
                    command: outcome.command.clone().unwrap_or_default(),
                });
                left.insert(outcome.message_id.clone());
            } else {
                store.reaction_done(&outcome.message_id).map_err(|source| {
                    RuntimeError::Pending {
                        action: "mark done",
                        source,
                    }
                })?;
            }
        }
        // The handler answers every message; one it did not stays kept.
        left.extend(unanswered);
    }
}
