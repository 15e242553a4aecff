//! `cmdctl resend --type TYPE [--since TIME]`: rebuilds the reactions and
//! alarm orders of a type's stored events from the configs and sends them
//! again through the event processor's own sinks (the command queue, and
//! EventBridge Scheduler for alarms due later, with the processor's
//! `SCHEDULE_*` and `COMMAND_QUEUE_ARN` variables), with the processor's
//! own engine: its envelope check, its permanent failure records, its
//! waves. Nothing is published (`cmdctl events --type T --publish` does
//! that).
//!
//! Safe to run any number of times: every reaction and alarm command has a
//! deterministic id (a command the handler applied already is a
//! `duplicate`; a schedule made already is found by its name). This is the
//! tool for the work the stream gave up on (docs/guarantees.md, the stream
//! side). DynamoDB only: on the embedded store `cmdctl run --checkpoint
//! NAME` delivers every reaction again.

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use event_processor::tracking::{TrackReport, track};
use event_processor::{DeliveryError, EventProcessor, Publication, Publisher};
use handler_core::{Checkpoints, FeedQuery, StoreError, SystemClock, recorded_at_bound};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::Exit;
use crate::cli::ResendArgs;
use crate::context::Context;
use crate::output;
use crate::sources::StoreSpec;

/// Runs the resend; exit 1 when an event's reactions or alarm orders could
/// not all be sent (it names the first).
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ResendArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    if !matches!(ctx.store_spec(), StoreSpec::Dynamo(_)) {
        bail!(
            "resend sends through the AWS sinks: use --store dynamodb (on the embedded store, `cmdctl run --checkpoint NAME` delivers every reaction again)"
        );
    }
    let since = args
        .since
        .as_deref()
        .map(|t| recorded_at_bound(t).with_context(|| format!("--since {t}: not an RFC 3339 time")))
        .transpose()?;
    let Some(store) = ctx.existing_store()? else {
        bail!("no store at {}", ctx.store_spec());
    };
    let (sink, alarms) = processor_lambda::delivery_sinks(
        ctx.sdk(),
        &args.queue_url,
        processor_lambda::schedule_settings(|name| std::env::var(name).ok()),
    );
    let processor = EventProcessor::new(
        ctx.config_source()?,
        NoPublication,
        sink,
        store.clone(),
        Arc::new(SystemClock),
    )
    .with_alarms(alarms);
    let query = FeedQuery {
        aggregate_type: Some(args.aggregate_type.clone()),
        since,
    };
    let page_size = usize::try_from(args.page_size).unwrap_or(usize::MAX);
    let report = ctx
        .block_on(track(
            store.as_ref(),
            &FromTheStart,
            "resend",
            &query,
            &processor,
            page_size,
        ))
        .context("the resend could not read the store")?;
    output::emit(ctx.global, out, &Resent(&report))?;
    Ok(if report.stopped_at.is_some() {
        Exit::Refused
    } else {
        Exit::Ok
    })
}

/// What the resend sent.
struct Resent<'a>(&'a TrackReport);

/// One object, its keys in alphabetical order.
impl Serialize for Resent<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (report, a) = (self.0, &self.0.alarms);
        json!({
            "events": report.events,
            "reactionsSent": report.reactions_sent,
            "reactionsFailed": report.reactions_failed,
            "alarms": {"sent": a.sent, "delayed": a.delayed, "scheduled": a.scheduled, "unscheduled": a.unscheduled},
            "stoppedAt": report.stopped_at,
        })
        .serialize(s)
    }
}

/// `12 events: 3 reactions sent, ...; alarms: ...`, on one line.
impl fmt::Display for Resent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (report, a) = (self.0, &self.0.alarms);
        writeln!(
            f,
            "{} events: {} reactions sent, {} recorded as failures; alarms: {} sent, {} delayed, {} scheduled, {} unscheduled{}",
            report.events,
            report.reactions_sent,
            report.reactions_failed,
            a.sent,
            a.delayed,
            a.scheduled,
            a.unscheduled,
            report
                .stopped_at
                .as_deref()
                .map(|e| format!("; stopped at {e}, which did not finish (see the log line)"))
                .unwrap_or_default()
        )
    }
}

impl output::VerbReport for Resent<'_> {}

/// Publishes nothing: a resend sends reactions and alarm orders only.
#[derive(Debug)]
struct NoPublication;

#[async_trait]
impl Publisher for NoPublication {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        vec![Ok(()); items.len()]
    }
}

/// Every run starts from the beginning of the query and saves nothing.
struct FromTheStart;

#[async_trait]
impl Checkpoints for FromTheStart {
    async fn checkpoint(&self, _name: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    async fn save_checkpoint(&self, _name: &str, _cursor: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
