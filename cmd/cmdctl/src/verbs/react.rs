//! The embedded event processor's verbs (docs/event-processor.md,
//! "Locally"): `cmdctl run`, and the run after a batch (`process`, `exec`).
//! The rounds themselves are `local_runtime`'s; this module builds the
//! runtime from the options and renders its report: the text or JSON on
//! stdout, and each of its notices on stderr.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};
use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, Batch, BatchReport, EventStore, StoreError};
use local_runtime::{CHECKPOINT, LocalRuntime, Notice, Report};

use crate::Exit;
use crate::cli::{AfterBatchArgs, RunArgs};
use crate::clock::SharedClock;
use crate::context::{AppHandler, Context};
use crate::output;
use crate::sources::StoreSpec;

/// `cmdctl run`: rounds until quiet; exit 1 when it did not end quiet.
pub(crate) fn run(ctx: &Context<'_>, args: &RunArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    if !matches!(ctx.store_spec(), StoreSpec::Sqlite(_)) {
        bail!(
            "`cmdctl run` runs the reactions of the embedded store; on {} the event processor \
             on the table's stream runs them (`cmdctl events --type T --publish` replays)",
            ctx.store_spec()
        );
    }
    let runtime = runtime(
        ctx,
        args.clock.clock(),
        args.react.events.as_deref(),
        args.react.max_rounds,
    )?;
    let reactions = run_until_quiet(ctx, &runtime, &args.checkpoint)?;
    output::emit(ctx.global, out, &reactions)?;
    Ok(if reactions.quiet() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

/// What runs a batch of `process` or `exec`: the local runtime on the
/// embedded store, the bare handler on DynamoDB (the stream's processor
/// runs the reactions there).
pub(crate) enum Runner {
    /// The embedded store.
    Local(LocalRuntime),
    /// DynamoDB.
    Remote(AppHandler),
}

impl Runner {
    /// The runner for the chosen store, reading `clock`; the local one with
    /// `args`' options (the events file is opened only when the reactions
    /// run).
    pub(crate) fn new(
        ctx: &Context<'_>,
        clock: SharedClock,
        args: &AfterBatchArgs,
    ) -> anyhow::Result<Self> {
        if !matches!(ctx.store_spec(), StoreSpec::Sqlite(_)) {
            return Ok(Runner::Remote(ctx.handler(clock)?));
        }
        let events = if args.no_react {
            None
        } else {
            args.react.events.as_deref()
        };
        Ok(Runner::Local(runtime(
            ctx,
            clock,
            events,
            args.react.max_rounds,
        )?))
    }

    /// Runs the batch through the handler.
    pub(crate) async fn handle(&self, batch: Batch) -> BatchReport {
        match self {
            Runner::Local(runtime) => runtime.handle(batch).await,
            Runner::Remote(handler) => handler.handle(batch).await,
        }
    }

    /// The state of `key` now.
    pub(crate) async fn head(
        &self,
        key: &AggregateKey,
    ) -> Result<Option<AggregateState>, StoreError> {
        Ok(match self {
            Runner::Local(runtime) => runtime.store().load(key, &[]).await?.head,
            Runner::Remote(handler) => handler.store().load(key, &[]).await?.head,
        })
    }

    /// Runs the reactions (and fires the due alarms) after a batch, unless
    /// `--no-react` or the store is DynamoDB: `None` then.
    pub(crate) fn after_batch(
        &self,
        ctx: &Context<'_>,
        args: &AfterBatchArgs,
    ) -> anyhow::Result<Option<Report>> {
        match self {
            Runner::Local(runtime) if !args.no_react => {
                run_until_quiet(ctx, runtime, CHECKPOINT).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// The local runtime over the embedded store, with the knobs' handler
/// options, publishing to `events` (nowhere when `None`).
pub(crate) fn runtime(
    ctx: &Context<'_>,
    clock: SharedClock,
    events: Option<&Path>,
    max_rounds: u64,
) -> anyhow::Result<LocalRuntime> {
    let store = ctx
        .local_store()?
        .context("the local run needs the embedded store")?;
    Ok(ctx
        .runtime_over(store, clock)?
        .with_events(events_writer(events)?)
        .with_max_rounds(max_rounds))
}

/// The rounds from `checkpoint`; each notice of the report on stderr.
fn run_until_quiet(
    ctx: &Context<'_>,
    runtime: &LocalRuntime,
    checkpoint: &str,
) -> anyhow::Result<Report> {
    let report = ctx.block_on(runtime.run_until_quiet(checkpoint))?;
    for notice in &report.notices {
        output::note(&notice_line(notice));
    }
    Ok(report)
}

/// A notice as the line on stderr.
pub(crate) fn notice_line(notice: &Notice) -> String {
    match notice {
        Notice::Failed {
            origin,
            message_id,
            aggregate,
            command,
            outcome,
        } => format!("{origin} {message_id} ({aggregate} {command}): {outcome}"),
        Notice::ReactionKept {
            message_id,
            aggregate,
            command,
        } => format!(
            "reaction {message_id} ({aggregate} {command}) failed transiently: it is kept and \
             runs again on the next `cmdctl run`"
        ),
        Notice::AlarmKept {
            aggregate,
            alarm,
            version,
        } => format!(
            "alarm {aggregate} {alarm} (v{version}) failed transiently: it fires again on the \
             next run"
        ),
        Notice::Stopped { max_rounds } => format!(
            "reactions stopped after {max_rounds} rounds with events left (a cycle of \
             reactions?): `cmdctl run` goes on from there; raise --max-rounds if the chain is \
             that long"
        ),
        Notice::Unfinished { event } => format!(
            "reactions stopped: event {event} could not be finished (its publication failed, \
             or its reactions could not be kept); `cmdctl run` tries it again"
        ),
    }
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
