//! `cmdctl events --type TYPE`: a type's events replayed through the event
//! processor, checkpointed (`local_runtime::replay`), and its counts.
//!
//! - `--jsonl`: every event of the type, written as one JSON line;
//! - `--publish`: the event processor's publication, on the embedded store
//!   as JSON lines on stdout, on DynamoDB to EventBridge
//!   (`eventbridge-publisher`); the reactions are dropped.
//!
//! A run with `--from NAME` resumes after NAME's checkpoint; any other run
//! starts from the beginning and saves under `--checkpoint` (default
//! `events-TYPE`). `--limit` ends a run after that many events.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use event_processor::Publisher;
use event_processor::tracking::TrackReport;
use eventbridge_publisher::{EventBridgePublisher, SdkPutEvents};
use handler_core::{FeedQuery, recorded_at_bound};
use local_runtime::publisher::JsonLines;
use local_runtime::replay::{ReplayError, ReplayRun, Replaying, replay_events};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::Exit;
use crate::cli::ReplayEventsArgs;
use crate::context::Context;
use crate::output;
use crate::sources::StoreSpec;
use crate::verbs::react::events_writer;

/// Runs the replay; exit 1 when an event could not be published.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ReplayEventsArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let Some(aggregate_type) = args.aggregate_type.clone() else {
        bail!("--type TYPE is required");
    };
    let since = args
        .since
        .as_deref()
        .map(|t| recorded_at_bound(t).with_context(|| format!("--since {t}: not an RFC 3339 time")))
        .transpose()?;
    let name = match (&args.from, &args.checkpoint) {
        (Some(name), _) | (None, Some(name)) => name.clone(),
        (None, None) => format!("events-{aggregate_type}"),
    };
    let Some(store) = ctx.existing_store()? else {
        output::note(&format!("no events in {}", ctx.store_spec()));
        return Ok(Exit::Ok);
    };
    let run = ReplayRun {
        checkpoint: name.clone(),
        resume: args.from.is_some(),
        query: FeedQuery {
            aggregate_type: Some(aggregate_type),
            since,
        },
        limit: args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        page_size: usize::try_from(args.page_size).unwrap_or(usize::MAX),
    };
    let replaying = if args.publish {
        let publisher: Arc<dyn Publisher> = match ctx.store_spec() {
            StoreSpec::Sqlite(_) => Arc::new(JsonLines::new(std::io::stdout())),
            StoreSpec::Dynamo(_) => Arc::new(EventBridgePublisher::new(SdkPutEvents::new(
                ctx.eventbridge(),
                &args.event_bus,
            ))),
        };
        Replaying::Publish {
            configs: ctx.config_source()?,
            publisher,
        }
    } else {
        Replaying::JsonLines(events_writer(args.jsonl.as_deref().or(Some("-".as_ref())))?)
    };
    let report = match ctx.block_on(replay_events(store, &run, replaying)) {
        Ok(report) => report,
        Err(ReplayError::NoCheckpoint { name }) => bail!(
            "no checkpoint named {name} in {}: a run without --from saves one (--checkpoint NAME)",
            ctx.store_spec()
        ),
        Err(e) => return Err(e.into()),
    };
    output::emit(
        ctx.global,
        out,
        &Replayed {
            checkpoint: &name,
            publish: args.publish,
            report: &report,
        },
    )?;
    Ok(if report.stopped_at.is_some() {
        Exit::Refused
    } else {
        Exit::Ok
    })
}

/// The counts: on stderr (stdout holds the events), or as the last line
/// of stdout with `--json`.
struct Replayed<'a> {
    checkpoint: &'a str,
    publish: bool,
    report: &'a TrackReport,
}

/// One object, its keys in alphabetical order.
impl Serialize for Replayed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.report;
        json!({
            "events": report.events,
            "pages": report.pages,
            "published": report.published,
            "checkpoint": self.checkpoint,
            "cursor": report.checkpoint,
            "stoppedAt": report.stopped_at,
        })
        .serialize(s)
    }
}

/// Nothing on stdout beside the events: the counts are a note.
impl fmt::Display for Replayed<'_> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl output::VerbReport for Replayed<'_> {
    fn notes(&self) -> Vec<String> {
        let report = self.report;
        vec![format!(
            "{} event{} read in {} page{}, {}; checkpoint {} at {}{}",
            report.events,
            if report.events == 1 { "" } else { "s" },
            report.pages,
            if report.pages == 1 { "" } else { "s" },
            if self.publish {
                format!("{} published", report.published)
            } else {
                "each written as a JSON line".to_owned()
            },
            self.checkpoint,
            report.checkpoint.as_deref().unwrap_or("the start"),
            report
                .stopped_at
                .as_deref()
                .map(|e| format!("; stopped at {e}, which could not be published"))
                .unwrap_or_default()
        )]
    }
}
