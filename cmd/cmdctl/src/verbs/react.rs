//! The embedded event processor (docs/event-processor.md, "Locally"): after
//! a batch (`process`, `exec`) and in `cmdctl run`.
//!
//! A round: `tracking::track` reads the embedded store's events after the
//! checkpoint ([`CHECKPOINT`] after a batch; `run --checkpoint` names
//! another), publishes those of publishing types as JSON
//! lines (`--events`) and keeps their reactions in the store before the
//! checkpoint moves past them ([`pending`]); the pending reactions then go
//! through the same handler as the batch, as SQS batches of up to 10
//! messages would (message id = the reaction's deterministic command id),
//! and each is removed once its outcome is final: one that failed
//! transiently stays for the next run, and the verb exits 1. Then the alarms
//! due by the handler's clock
//! fire through the same handler ([`alarms`]). Rounds repeat until one finds
//! no new event and no alarm due (quiet), or `--max-rounds` have run with
//! events left: a cycle of reactions stops there, and the next `cmdctl run`
//! goes on from the checkpoint. The bound is checked before a round reads
//! anything, so no reaction is dropped.

mod alarms;
mod pending;

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use event_processor::jsonl::JsonLines;
use event_processor::tracking::track;
use event_processor::{EventProcessor, ReactionCommand};
use handler_core::{Batch, EventFeed, FeedQuery, InboundMessage, MessageOutcome};
use serde::Serialize;

use crate::Exit;
use crate::cli::{AfterBatchArgs, ReactArgs, RunArgs};
use crate::clock::SharedClock;
use crate::context::{AppHandler, Context};
use crate::output;
use crate::sources::StoreSpec;

/// The embedded processor's checkpoint name.
pub(crate) const CHECKPOINT: &str = "local";

/// Events read per page of the feed.
const PAGE_SIZE: usize = 100;

/// Reactions per handler batch: SQS's largest batch.
const BATCH_SIZE: usize = 10;

/// How many times a reaction that failed transiently is run again within its
/// round (SQS would deliver it again).
const ATTEMPTS: usize = 3;

/// What the reactions did.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reactions {
    /// Rounds that ran reactions.
    pub(crate) rounds: u64,
    /// Events read.
    pub(crate) events: usize,
    /// Events published.
    pub(crate) published: usize,
    /// Reactions run through the handler.
    pub(crate) commands: usize,
    /// ... applied.
    pub(crate) applied: usize,
    /// ... already applied (nothing written).
    pub(crate) duplicates: usize,
    /// ... fired alarms with no effect (nothing written).
    pub(crate) stale: usize,
    /// ... rejected or failed (each named on stderr).
    pub(crate) failed: usize,
    /// Commands that were alarms fired (counted in `commands` too).
    pub(crate) alarms: usize,
    /// Each alarm fired, in order.
    pub(crate) fired: Vec<alarms::Fired>,
    /// Reactions that could not be built (recorded as failures of their
    /// event).
    pub(crate) not_built: usize,
    /// True when the round bound stopped the run with events left.
    pub(crate) stopped: bool,
    /// The event whose publication failed, when one did (the run stops).
    pub(crate) unfinished: Option<String>,
    /// Reactions that failed transiently and are kept for the next run
    /// (each named on stderr).
    pub(crate) pending: usize,
    /// Alarms that failed transiently and fire again on the next run (each
    /// named on stderr).
    pub(crate) alarms_pending: usize,
}

impl Reactions {
    /// The human line.
    pub(crate) fn line(&self) -> String {
        format!(
            "reactions: {} round{}, {} event{} read, {} published, {} command{} \
             ({} applied, {} duplicate, {} failed), {} not built{}{}{}",
            self.rounds,
            plural(self.rounds as usize),
            self.events,
            plural(self.events),
            self.published,
            self.commands,
            plural(self.commands),
            self.applied,
            self.duplicates,
            self.failed,
            self.not_built,
            if self.alarms > 0 {
                format!(
                    ", {} alarm{} fired ({} stale)",
                    self.alarms,
                    plural(self.alarms),
                    self.stale
                )
            } else {
                String::new()
            },
            if self.pending + self.alarms_pending > 0 {
                format!(
                    ", {} left for the next run",
                    self.pending + self.alarms_pending
                )
            } else {
                String::new()
            },
            if self.stopped { ", stopped" } else { "" }
        )
    }

    /// The text form: one line per alarm fired, then [`Reactions::line`].
    pub(crate) fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for fired in &self.fired {
            writeln!(out, "{}", fired.line())?;
        }
        writeln!(out, "{}", self.line())
    }

    /// Counts one command's outcome; a failure is named on stderr as `what`
    /// (a reaction, an alarm).
    fn count(&mut self, what: &str, outcome: &MessageOutcome) {
        self.commands += 1;
        match &outcome.result {
            Ok(applied) if applied.stale.is_some() => self.stale += 1,
            Ok(applied) if applied.duplicate => self.duplicates += 1,
            Ok(_) => self.applied += 1,
            Err(_) => {
                self.failed += 1;
                output::note(&format!(
                    "{what} {} ({} {}): {}",
                    outcome.message_id,
                    outcome
                        .aggregate
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    outcome.command.as_deref().unwrap_or(""),
                    output::outcome_text(&outcome.result)
                ));
            }
        }
    }

    /// True when the run ended quiet.
    pub(crate) fn quiet(&self) -> bool {
        !self.stopped && self.unfinished.is_none() && self.finished()
    }

    /// True when no reaction or alarm failed transiently (none is left
    /// for the next run).
    pub(crate) fn finished(&self) -> bool {
        self.pending == 0 && self.alarms_pending == 0
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `cmdctl run`: rounds until quiet; exit 1 when it did not end quiet.
pub(crate) fn run(ctx: &Context<'_>, args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    if !matches!(ctx.store_spec(), StoreSpec::Sqlite(_)) {
        bail!(
            "`cmdctl run` runs the reactions of the embedded store; on {} the event processor \
             on the table's stream runs them (`cmdctl events --type T --publish` replays)",
            ctx.store_spec()
        );
    }
    let clock = args.clock.clock();
    let handler = ctx.handler(clock.clone())?;
    let reactions = run_until_quiet(ctx, &handler, &clock, &args.react, &args.checkpoint)?;
    if ctx.global.json {
        output::write_json(out, &reactions)?;
    } else {
        reactions.write_text(out)?;
    }
    Ok(if reactions.quiet() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

/// Runs the reactions (and fires the due alarms) after a batch, unless
/// `--no-react` or the store is not the embedded one (on DynamoDB the
/// stream's processor runs them): `None` then.
pub(crate) fn after_batch(
    ctx: &Context<'_>,
    handler: &AppHandler,
    clock: &SharedClock,
    args: &AfterBatchArgs,
) -> anyhow::Result<Option<Reactions>> {
    if args.no_react || !matches!(ctx.store_spec(), StoreSpec::Sqlite(_)) {
        return Ok(None);
    }
    run_until_quiet(ctx, handler, clock, &args.react, CHECKPOINT).map(Some)
}

/// Rounds from the checkpoint `checkpoint` until quiet or the bound (see the
/// module doc); says on stderr why it stopped when it did not end quiet.
pub(crate) fn run_until_quiet(
    ctx: &Context<'_>,
    handler: &AppHandler,
    clock: &SharedClock,
    args: &ReactArgs,
    checkpoint: &str,
) -> anyhow::Result<Reactions> {
    let local = ctx
        .local_store()?
        .context("the local run needs the embedded store")?;
    let mut given_up = alarms::GivenUp::new();
    let mut left = pending::LeftPending::new();
    let publisher = JsonLines::new(events_writer(args.events.as_deref())?);
    let sink = pending::KeepInStore::new(local.clone());
    let store = handler.store().clone();
    let processor = EventProcessor::new(
        handler.configs().clone(),
        publisher,
        sink,
        store.clone(),
        clock.clone(),
    );
    let query = FeedQuery::default();
    let mut totals = Reactions::default();
    let outcome = loop {
        if totals.rounds == args.max_rounds {
            let after = ctx.block_on(store.checkpoint(checkpoint))?;
            let events_left = ctx.block_on(store.read(&query, after.as_deref(), 1))?;
            totals.stopped = !events_left.events.is_empty();
            if totals.stopped {
                output::note(&format!(
                    "reactions stopped after {} rounds with events left (a cycle of reactions?): \
                     `cmdctl run` goes on from there; raise --max-rounds if the chain is that long",
                    args.max_rounds
                ));
            }
            break Ok(());
        }
        let pass = match ctx.block_on(track(
            store.as_ref(),
            store.as_ref(),
            checkpoint,
            &query,
            &processor,
            PAGE_SIZE,
        )) {
            Ok(pass) => pass,
            Err(err) => {
                break Err(anyhow::Error::new(err)
                    .context("the embedded event processor could not read the store"));
            }
        };
        totals.events += pass.events;
        totals.published += pass.published;
        totals.not_built += pass.reactions_failed;
        if let Some(event) = &pass.stopped_at {
            output::note(&format!(
                "reactions stopped: event {event} could not be finished (its publication \
                 failed, or its reactions could not be kept); `cmdctl run` tries it again"
            ));
            totals.unfinished = Some(event.clone());
        }
        // The reactions kept (this round's, and any a past run left).
        let ran = match ctx.block_on(pending::run_pending(
            handler,
            &local,
            &mut left,
            &mut totals,
        )) {
            Ok(ran) => ran,
            Err(err) => break Err(err),
        };
        if totals.unfinished.is_some() {
            totals.rounds += u64::from(ran > 0);
            break Ok(());
        }
        let fired = match ctx.block_on(alarms::fire_due(
            handler,
            &local,
            clock.now(),
            &mut given_up,
        )) {
            Ok(fired) => fired,
            Err(err) => break Err(err),
        };
        if ran == 0 && fired.is_empty() {
            break Ok(());
        }
        totals.rounds += 1;
        for (alarm, outcome) in fired {
            totals.count("alarm", &outcome);
            totals.alarms += 1;
            totals.fired.push(alarm);
        }
    };
    totals.pending = left.len();
    totals.alarms_pending = given_up.len();
    outcome.map(|()| totals)
}

/// Runs the reactions through the handler, [`BATCH_SIZE`] at a time; one
/// that failed transiently runs again, up to [`ATTEMPTS`] times in all; a
/// permanent refusal is final at once.
/// Returns each reaction's last outcome.
pub(super) async fn run_commands(
    handler: &AppHandler,
    commands: &[ReactionCommand],
) -> Vec<MessageOutcome> {
    run_messages(handler, commands.iter().map(message).collect()).await
}

/// [`run_commands`] over messages already built.
pub(super) async fn run_messages(
    handler: &AppHandler,
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

/// A reaction as the message SQS would deliver: its body is the command
/// message, its id the command's.
fn message(command: &ReactionCommand) -> InboundMessage {
    // A map of strings and JSON values always serializes.
    let body = serde_json::to_string(command).unwrap_or_default();
    InboundMessage::new(command.command_id.clone(), body)
}

/// Where published events go: a file (appended), stdout (`-`), or nowhere.
pub(crate) fn events_writer(path: Option<&Path>) -> anyhow::Result<Box<dyn Write + Send>> {
    Ok(match path {
        None => Box::new(std::io::sink()),
        Some(p) if p.as_os_str() == "-" => Box::new(std::io::stdout()),
        Some(p) => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open {} for the published events", p.display()))?,
        ),
    })
}
