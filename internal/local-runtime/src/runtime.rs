//! [`LocalRuntime`]: the handler over the embedded store, and the rounds of
//! reactions and due alarms after a batch (the crate doc tells the rounds).

use std::io::Write;
use std::sync::Arc;

use batch_handler::{Handler, HandlerOptions};
use event_processor::EventProcessor;
use event_processor::tracking::track;
use handler_core::{Batch, BatchReport, Checkpoints, Clock, ConfigSource, EventFeed, FeedQuery};
use store_sqlite::SqliteStore;

use crate::alarms::{self, GivenUp};
use crate::error::RuntimeError;
use crate::pending::{self, KeepInStore, LeftPending};
use crate::publisher::JsonLines;
use crate::report::{Notice, Origin, Report};

/// The checkpoint of the runs after a batch.
pub const CHECKPOINT: &str = "local";

/// The round bound unless [`LocalRuntime::with_max_rounds`] says otherwise.
pub const DEFAULT_MAX_ROUNDS: u64 = 100;

/// Events read per page of the feed.
const PAGE_SIZE: usize = 100;

/// The handler the Lambda runs, over the embedded store.
pub type LocalHandler = Handler<Arc<SqliteStore>, Arc<dyn ConfigSource>>;

/// Where the published events go.
type Events = Arc<JsonLines<Box<dyn Write + Send>>>;

/// The embedded store, its handler and its event processor.
pub struct LocalRuntime {
    handler: LocalHandler,
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    events: Events,
    max_rounds: u64,
}

impl std::fmt::Debug for LocalRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalRuntime")
            .field("store", &self.store)
            .field("max_rounds", &self.max_rounds)
            .finish_non_exhaustive()
    }
}

/// A batch and the rounds after it ([`LocalRuntime::submit`]).
#[derive(Debug)]
pub struct Submitted {
    /// Each message's outcome, as the Lambda reports it.
    pub batch: BatchReport,
    /// What the reactions and the alarms due did.
    pub reactions: Report,
}

impl LocalRuntime {
    /// A runtime over `store` and `configs`, reading `clock` (the handler's
    /// `recordedAt`, the alarms due); the handler's default options, the
    /// published events written nowhere, [`DEFAULT_MAX_ROUNDS`].
    pub fn new(
        store: Arc<SqliteStore>,
        configs: Arc<dyn ConfigSource>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let handler = Handler::new(store.clone(), configs).with_clock(clock.clone());
        Self {
            handler,
            store,
            clock,
            events: Arc::new(JsonLines::new(Box::new(std::io::sink()))),
            max_rounds: DEFAULT_MAX_ROUNDS,
        }
    }

    /// The handler's options (as the Lambda's environment sets them).
    pub fn with_options(mut self, options: HandlerOptions) -> Self {
        self.handler = self.handler.with_options(options);
        self
    }

    /// Writes each published event as one JSON line to `out`.
    pub fn with_events(mut self, out: Box<dyn Write + Send>) -> Self {
        self.events = Arc::new(JsonLines::new(out));
        self
    }

    /// Stops a run after `rounds` rounds (at least 1), so that a cycle of
    /// reactions cannot run forever.
    pub fn with_max_rounds(mut self, rounds: u64) -> Self {
        self.max_rounds = rounds.max(1);
        self
    }

    /// The handler every command of the runtime goes through.
    pub fn handler(&self) -> &LocalHandler {
        &self.handler
    }

    /// The embedded store.
    pub fn store(&self) -> &Arc<SqliteStore> {
        &self.store
    }

    /// Runs a batch through the handler (no reactions).
    pub async fn handle(&self, batch: Batch) -> BatchReport {
        self.handler.handle(batch).await
    }

    /// Runs a batch through the handler, then its reactions and the alarms
    /// due until quiet, from [`CHECKPOINT`].
    pub async fn submit(&self, batch: Batch) -> Result<Submitted, RuntimeError> {
        let batch = self.handle(batch).await;
        let reactions = self.run_until_quiet(CHECKPOINT).await?;
        Ok(Submitted { batch, reactions })
    }

    /// Rounds from the checkpoint `checkpoint` until quiet or the bound
    /// (see the crate doc). A reaction or alarm that failed transiently is
    /// kept for the next run and counted in the report's `pending` /
    /// `alarmsPending`; the error is for a store that failed under the run.
    pub async fn run_until_quiet(&self, checkpoint: &str) -> Result<Report, RuntimeError> {
        let mut given_up = GivenUp::new();
        let mut left = LeftPending::new();
        let sink = KeepInStore::new(self.store.clone());
        let processor = EventProcessor::new(
            self.handler.configs().clone(),
            self.events.clone(),
            sink,
            self.store.clone(),
            self.clock.clone(),
        );
        let query = FeedQuery::default();
        let mut totals = Report::default();
        let outcome = loop {
            if totals.rounds == self.max_rounds {
                match self.events_left(checkpoint, &query).await {
                    Ok(stopped) => totals.stopped = stopped,
                    Err(err) => break Err(err),
                }
                if totals.stopped {
                    totals.notices.push(Notice::Stopped {
                        max_rounds: self.max_rounds,
                    });
                }
                break Ok(());
            }
            let pass = match track(
                self.store.as_ref(),
                self.store.as_ref(),
                checkpoint,
                &query,
                &processor,
                PAGE_SIZE,
            )
            .await
            {
                Ok(pass) => pass,
                Err(err) => break Err(RuntimeError::Feed(err)),
            };
            totals.events += pass.events;
            totals.published += pass.published;
            totals.not_built += pass.reactions_failed;
            if let Some(event) = &pass.stopped_at {
                totals.notices.push(Notice::Unfinished {
                    event: event.clone(),
                });
                totals.unfinished = Some(event.clone());
            }
            // The reactions kept (this round's, and any a past run left).
            let ran = match pending::run_pending(&self.handler, &self.store, &mut left, &mut totals)
                .await
            {
                Ok(ran) => ran,
                Err(err) => break Err(err),
            };
            if totals.unfinished.is_some() {
                totals.rounds += u64::from(ran > 0);
                break Ok(());
            }
            let fired = match alarms::fire_due(
                &self.handler,
                &self.store,
                self.clock.now(),
                &mut given_up,
                &mut totals.notices,
            )
            .await
            {
                Ok(fired) => fired,
                Err(err) => break Err(err),
            };
            if ran == 0 && fired.is_empty() {
                break Ok(());
            }
            totals.rounds += 1;
            for (alarm, outcome) in fired {
                totals.count(Origin::Alarm, &outcome);
                totals.alarms += 1;
                totals.fired.push(alarm);
            }
        };
        totals.pending = left.len();
        totals.alarms_pending = given_up.len();
        outcome.map(|()| totals)
    }

    /// Fires the alarms due by the clock once, and runs none of the reactions
    /// their events build (the next [`run_until_quiet`](Self::run_until_quiet)
    /// does): the report counts them (`alarms`, `fired`, no round). One that
    /// failed transiently is not marked delivered, so it fires again on a
    /// later call (`alarmsPending`).
    pub async fn fire_due_alarms(&self) -> Result<Report, RuntimeError> {
        let mut report = Report::default();
        let mut given_up = GivenUp::new();
        let fired = alarms::fire_due(
            &self.handler,
            &self.store,
            self.clock.now(),
            &mut given_up,
            &mut report.notices,
        )
        .await?;
        for (alarm, outcome) in fired {
            report.count(Origin::Alarm, &outcome);
            report.alarms += 1;
            report.fired.push(alarm);
        }
        report.alarms_pending = given_up.len();
        Ok(report)
    }

    /// True when events are left after `checkpoint`.
    async fn events_left(&self, checkpoint: &str, query: &FeedQuery) -> Result<bool, RuntimeError> {
        let after = self
            .store
            .checkpoint(checkpoint)
            .await
            .map_err(RuntimeError::Feed)?;
        let left = self
            .store
            .read(query, after.as_deref(), 1)
            .await
            .map_err(RuntimeError::Feed)?;
        Ok(!left.events.is_empty())
    }
}
