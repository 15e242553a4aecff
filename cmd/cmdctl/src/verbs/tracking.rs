//! `cmdctl events --type TYPE`: the tracking processor (replay) over the
//! store's event feed (`tracking::track`), with its checkpoint saved after
//! each page.
//!
//! - `--jsonl`: every event of the type, written as one JSON line (its
//!   publication's detail) as the page is read; the processor then has no
//!   config to act on, so nothing is published and no reaction is built.
//! - `--publish`: the event processor's publication (publishing types only),
//!   on the embedded store as JSON lines on stdout, on DynamoDB to
//!   EventBridge (`eventbridge-publisher`); the reactions it builds are
//!   dropped: a replay never sends them again.
//!
//! A run with `--from NAME` resumes after NAME's checkpoint; any other run
//! starts from the beginning ([`FreshStart`]) and saves under `--checkpoint`
//! (default `events-TYPE`). `--limit` ends a run after that many events
//! ([`Tap`]), as an interruption would.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use event_processor::jsonl::{Collect, JsonLines};
use event_processor::tracking::{TrackReport, track};
use event_processor::{EventProcessor, Publication, Publisher};
use eventbridge_publisher::{EventBridgePublisher, SdkPutEvents};
use handler_core::state_machine::StateMachine;
use handler_core::{
    Checkpoints, ConfigSource, ConfigSourceError, EventFeed, FeedPage, FeedQuery, StoreError,
    SystemClock, recorded_at_bound,
};
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
    if args.from.is_some() && ctx.block_on(store.checkpoint(&name))?.is_none() {
        bail!(
            "no checkpoint named {name} in {}: a run without --from saves one (--checkpoint NAME)",
            ctx.store_spec()
        );
    }
    let fresh = FreshStart(store.as_ref());
    let checkpoints: &dyn Checkpoints = if args.from.is_some() {
        store.as_ref()
    } else {
        &fresh
    };
    let query = FeedQuery {
        aggregate_type: Some(aggregate_type),
        since,
    };
    let limit = args.limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    let page_size = usize::try_from(args.page_size).unwrap_or(usize::MAX);
    // --publish: the processor publishes (locally on stdout) with the real
    // configs; --jsonl: the feed writes every event, the processor has no
    // config to act on.
    let (configs, publisher, tap): (Arc<dyn ConfigSource>, Arc<dyn Publisher>, _) = if args.publish
    {
        let publisher: Arc<dyn Publisher> = match ctx.store_spec() {
            StoreSpec::Sqlite(_) => Arc::new(JsonLines::new(std::io::stdout())),
            StoreSpec::Dynamo(_) => Arc::new(EventBridgePublisher::new(SdkPutEvents::new(
                ctx.eventbridge(),
                &args.event_bus,
            ))),
        };
        (ctx.config_source()?, publisher, None)
    } else {
        let writer = events_writer(args.jsonl.as_deref().or(Some("-".as_ref())))?;
        (
            Arc::new(NoConfigs),
            Arc::new(JsonLines::new(std::io::sink())),
            Some(writer),
        )
    };
    let feed = Tap::new(store.as_ref(), tap, limit);
    let processor = EventProcessor::new(
        configs,
        publisher,
        Arc::new(Collect::new()),
        store.clone(),
        Arc::new(SystemClock),
    );
    let report = ctx
        .block_on(track(
            &feed,
            checkpoints,
            &name,
            &query,
            &processor,
            page_size,
        ))
        .context("the replay could not read the store")?;
    summarize(ctx, &name, args.publish, &report, out)?;
    Ok(if report.stopped_at.is_some() {
        Exit::Refused
    } else {
        Exit::Ok
    })
}

/// The counts: on stderr, or as the last line of stdout with `--json`.
fn summarize(
    ctx: &Context<'_>,
    name: &str,
    publish: bool,
    report: &TrackReport,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if ctx.global.json {
        return output::write_json(
            out,
            &json!({
                "events": report.events,
                "pages": report.pages,
                "published": report.published,
                "checkpoint": name,
                "cursor": report.checkpoint,
                "stoppedAt": report.stopped_at,
            }),
        );
    }
    output::note(&format!(
        "{} event{} read in {} page{}, {}; checkpoint {name} at {}{}",
        report.events,
        if report.events == 1 { "" } else { "s" },
        report.pages,
        if report.pages == 1 { "" } else { "s" },
        if publish {
            format!("{} published", report.published)
        } else {
            "each written as a JSON line".to_owned()
        },
        report.checkpoint.as_deref().unwrap_or("the start"),
        report
            .stopped_at
            .as_deref()
            .map(|e| format!("; stopped at {e}, which could not be published"))
            .unwrap_or_default()
    ));
    Ok(())
}

/// The store's checkpoints, but a run that starts from the beginning: the
/// saved cursor is not read, only written.
struct FreshStart<'a>(&'a dyn Checkpoints);

#[async_trait]
impl Checkpoints for FreshStart<'_> {
    async fn checkpoint(&self, _name: &str) -> Result<Option<String>, StoreError> {
        Ok(None)
    }

    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        self.0.save_checkpoint(name, cursor).await
    }
}

/// The store's feed, ended after `limit` events, writing each event read as
/// a JSON line when it has a writer.
struct Tap<'a> {
    inner: &'a dyn EventFeed,
    out: Option<Mutex<Box<dyn Write + Send>>>,
    left: Mutex<Option<usize>>,
}

impl<'a> Tap<'a> {
    fn new(
        inner: &'a dyn EventFeed,
        out: Option<Box<dyn Write + Send>>,
        limit: Option<usize>,
    ) -> Self {
        Self {
            inner,
            out: out.map(Mutex::new),
            left: Mutex::new(limit),
        }
    }
}

#[async_trait]
impl EventFeed for Tap<'_> {
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        let left = *self.left.lock().unwrap_or_else(PoisonError::into_inner);
        let limit = left.map_or(limit, |left| left.min(limit));
        if limit == 0 {
            return Ok(FeedPage::default());
        }
        let page = self.inner.read(query, after, limit).await?;
        if let Some(left) = self
            .left
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            *left = left.saturating_sub(page.events.len());
        }
        if let Some(out) = &self.out {
            let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
            let written: std::io::Result<()> = page
                .events
                .iter()
                .try_for_each(|e| writeln!(out, "{}", Publication::of(e).detail))
                .and_then(|()| out.flush());
            written.map_err(|e| {
                StoreError::unavailable(format!("cannot write the events: {e}")).with_source(e)
            })?;
        }
        Ok(page)
    }
}

/// No config for any type: the processor acts on nothing (`--jsonl` writes
/// the events itself).
struct NoConfigs;

#[async_trait]
impl ConfigSource for NoConfigs {
    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        Err(ConfigSourceError::NotFound {
            aggregate_type: aggregate_type.to_owned(),
            location: "nowhere (a --jsonl replay)".to_owned(),
        })
    }
}
