//! A type's events replayed through the event processor from a checkpoint
//! ([`replay_events`]), over any store's feed (the embedded one or
//! DynamoDB's): the tracking processor (`event_processor::tracking::track`)
//! with the checkpoint saved after each page.
//!
//! - [`Replaying::JsonLines`]: every event read, written as one JSON line
//!   (its publication's detail) as the page is read; the processor then has
//!   no config to act on ([`NoConfigs`]), so nothing is published and no
//!   reaction is built.
//! - [`Replaying::Publish`]: the event processor's publication (publishing
//!   types only) through the given publisher; the reactions it builds are
//!   dropped: a replay never sends them again.
//!
//! A run that resumes starts after its checkpoint (which must exist); any
//! other starts from the beginning ([`FreshStart`]) and saves under the
//! same name. A limit ends a run after that many events ([`Tap`]), as an
//! interruption would.
//!
//! Cost: one feed read per page and one checkpoint write per finished page,
//! plus what the publisher does.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use event_processor::tracking::{TrackReport, track};
use event_processor::{EventProcessor, Publication, Publisher};
use handler_core::state_machine::StateMachine;
use handler_core::{
    Checkpoints, ConfigSource, ConfigSourceError, EventFeed, FailureLog, FeedPage, FeedQuery,
    StoreError, SystemClock,
};

use crate::publisher::{Collect, JsonLines};

/// What a replay does with each event.
pub enum Replaying {
    /// The processor publishes through `publisher` the events whose config
    /// (from `configs`) says `publish`; the reactions are dropped.
    Publish {
        /// The configs the processor reads.
        configs: Arc<dyn ConfigSource>,
        /// Where the publications go.
        publisher: Arc<dyn Publisher>,
    },
    /// Every event read, as one JSON line on this writer; nothing published.
    JsonLines(Box<dyn Write + Send>),
}

/// Which events a replay reads, from where, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRun {
    /// The checkpoint's name: read when resuming, written after each page.
    pub checkpoint: String,
    /// Resume after the saved checkpoint (which must exist), rather than
    /// start from the beginning.
    pub resume: bool,
    /// The events' type and time bound.
    pub query: FeedQuery,
    /// End after this many events.
    pub limit: Option<usize>,
    /// Events per feed read.
    pub page_size: usize,
}

/// A replay that could not run. An event that could not be published is no
/// error: the report's `stopped_at` names it.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// A resumed run's checkpoint is not saved.
    #[error("no checkpoint named {name}")]
    NoCheckpoint {
        /// The checkpoint's name.
        name: String,
    },
    /// The feed or the checkpoints failed (the checkpoint saved so far stays).
    #[error("the replay could not read the store")]
    Feed(#[source] StoreError),
}

/// Replays `run`'s events of `store` as `replaying` says, saving the
/// checkpoint after each page.
///
/// # Errors
/// As [`ReplayError`].
pub async fn replay_events<S>(
    store: Arc<S>,
    run: &ReplayRun,
    replaying: Replaying,
) -> Result<TrackReport, ReplayError>
where
    S: EventFeed + Checkpoints + FailureLog + ?Sized + 'static,
{
    let name = run.checkpoint.as_str();
    if run.resume
        && store
            .checkpoint(name)
            .await
            .map_err(ReplayError::Feed)?
            .is_none()
    {
        return Err(ReplayError::NoCheckpoint {
            name: name.to_owned(),
        });
    }
    let fresh = FreshStart(&store);
    let checkpoints: &dyn Checkpoints = if run.resume { &store } else { &fresh };
    let (configs, publisher, tap): (Arc<dyn ConfigSource>, Arc<dyn Publisher>, _) = match replaying
    {
        Replaying::Publish { configs, publisher } => (configs, publisher, None),
        Replaying::JsonLines(writer) => (
            Arc::new(NoConfigs),
            Arc::new(JsonLines::new(std::io::sink())),
            Some(writer),
        ),
    };
    let feed = Tap::new(&store, tap, run.limit);
    let processor = EventProcessor::new(
        configs,
        publisher,
        Arc::new(Collect::new()),
        store.clone(),
        Arc::new(SystemClock),
    );
    track(
        &feed,
        checkpoints,
        name,
        &run.query,
        &processor,
        run.page_size,
    )
    .await
    .map_err(ReplayError::Feed)
}

/// The store's checkpoints, but a run that starts from the beginning: the
/// saved cursor is not read, only written.
pub struct FreshStart<'a>(pub &'a dyn Checkpoints);

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
pub struct Tap<'a> {
    inner: &'a dyn EventFeed,
    out: Option<Mutex<Box<dyn Write + Send>>>,
    left: Mutex<Option<usize>>,
}

impl<'a> Tap<'a> {
    /// `inner`, limited to `limit` events, each written to `out` if given.
    pub fn new(
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

/// No config for any type: the processor acts on nothing
/// ([`Replaying::JsonLines`] writes the events itself).
pub struct NoConfigs;

#[async_trait]
impl ConfigSource for NoConfigs {
    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError> {
        Ok(Vec::new())
    }

    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        Err(ConfigSourceError::NotFound {
            aggregate_type: aggregate_type.to_owned(),
            location: "nowhere (a JSON-lines replay)".to_owned(),
        })
    }
}
