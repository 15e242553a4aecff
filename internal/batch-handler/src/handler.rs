//! The batch handler: parses every message, groups them into lanes (one per
//! aggregate, or one per message group on FIFO), runs the lanes concurrently
//! and each lane's messages in order, and reports one outcome per message.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use state_machine::StateMachine;

use crate::aggregate::{Pending, run_aggregate};
use crate::hold_back::HoldBack;
use crate::lanes::{Entry, Member, Outcome, Parsed, Run, Slot, SlotState, lanes, runs};
use crate::retry::RetryPolicy;
use handler_core::batch::{Batch, BatchReport, InboundMessage, MessageOutcome};
use handler_core::clock::{Clock, SystemClock, rfc3339_millis};
use handler_core::config_source::{ConfigSource, ConfigSourceError};
use handler_core::envelope::parse_command;
use handler_core::failure::{Failure, Permanent, Transient};
use handler_core::failure_log::FailureLog;
use handler_core::failure_log::FailureRecord;
use handler_core::outside_event::{Bound, OutsideEvent, bind_event, outside_event};
use handler_core::rejection_sink::{Rejected, RejectionSink};
use handler_core::store::EventStore;

/// Tunables of the handler.
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    /// Lanes (aggregates) worked on at once. The default, 100, lets a batch
    /// of up to 100 aggregates load together and then write together: two
    /// round trips to the store; lanes beyond it wait for a free one.
    pub concurrency: usize,
    /// Retries of an aggregate's run when other writers win the race.
    pub retry: RetryPolicy,
    /// No new aggregate is started when less than this is left before the
    /// batch's deadline, and runs still going then are cut; the first half
    /// of it is for the rejection sink and the failure records, the second
    /// for the answer.
    pub deadline_margin: Duration,
}

impl Default for HandlerOptions {
    fn default() -> Self {
        Self {
            concurrency: 100,
            retry: RetryPolicy::default(),
            deadline_margin: Duration::from_secs(2),
        }
    }
}

/// The command handler over an event store and a config source.
pub struct Handler<S, C> {
    store: S,
    configs: C,
    options: HandlerOptions,
    rejections: Option<Arc<dyn RejectionSink>>,
    clock: Arc<dyn Clock>,
}

impl<S: std::fmt::Debug, C: std::fmt::Debug> std::fmt::Debug for Handler<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("store", &self.store)
            .field("configs", &self.configs)
            .field("options", &self.options)
            .field("rejection_sink", &self.rejections.is_some())
            .field("clock", &self.clock)
            .finish()
    }
}

/// The batch's state machines by aggregate type; `None` when the deadline
/// came before the config.
type Machines = HashMap<String, Option<Result<Arc<StateMachine>, ConfigSourceError>>>;

impl<S: EventStore + FailureLog, C: ConfigSource> Handler<S, C> {
    /// A handler with default options.
    pub fn new(store: S, configs: C) -> Self {
        Self {
            store,
            configs,
            options: HandlerOptions::default(),
            rejections: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// Hands permanent rejections to `sink` (the dead-letter queue) at once,
    /// instead of letting them fail every receive until the redrive policy
    /// moves them.
    pub fn with_rejection_sink(mut self, sink: Arc<dyn RejectionSink>) -> Self {
        self.rejections = Some(sink);
        self
    }

    /// Reads the time from `clock` (default: [`SystemClock`]): `recordedAt`,
    /// failure records, and the now alarms are due from
    /// ([`CommandInput::now`](state_machine::CommandInput::now)).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: HandlerOptions) -> Self {
        self.options = options;
        self
    }

    /// The event store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The config source.
    pub fn configs(&self) -> &C {
        &self.configs
    }

    /// Handles one batch. Never fails as a whole: every message gets
    /// exactly one outcome, and each outcome is logged as one JSON line.
    ///
    /// With a deadline, every stage is bounded by it (see [`Cutoffs`]): the
    /// config fetch and the aggregates' runs stop at the deadline minus the
    /// margin (a message whose run was not started fails as `deadline`, "not
    /// attempted"; one whose run was cut fails as `deadline`, "interrupted",
    /// even if its write landed, since its answer did not: it then comes
    /// back as a duplicate); the hand-over to the rejection sink and the
    /// failure records, which run side by side, stop at the deadline minus
    /// half the margin, so the answer leaves before the deadline.
    pub async fn handle(&self, batch: Batch) -> BatchReport {
        let cutoffs = Cutoffs::new(batch.deadline, self.options.deadline_margin);
        let parsed = self.parse(&batch.messages, cutoffs.work).await;
        let machines = self.machines(&parsed, cutoffs.work).await;

        let slots: Vec<Slot> = batch.messages.iter().map(|_| Slot::default()).collect();
        let entries =
            batch
                .messages
                .iter()
                .zip(&parsed)
                .zip(&slots)
                .map(|((message, parsed), slot)| Entry {
                    message,
                    parsed,
                    slot,
                });
        let concurrency = self.options.concurrency.max(1);
        // Made up front (futures are lazy) rather than in the stream, so that
        // no closure over the entries' lifetime lives across an await, which
        // would keep the future from being `Send`.
        let lane_runs: Vec<_> = lanes(batch.fifo, entries)
            .into_iter()
            .map(|lane| self.run_lane(batch.fifo, &machines, lane, cutoffs.work))
            .collect();
        let all_lanes = futures::stream::iter(lane_runs)
            .buffer_unordered(concurrency)
            .for_each(|()| std::future::ready(()));
        if until(cutoffs.work, all_lanes).await.is_none() {
            tracing::warn!(
                "the deadline came while aggregates were being worked on: their messages fail as `deadline`"
            );
        }

        let mut outcomes = batch
            .messages
            .iter()
            .zip(parsed)
            .zip(slots)
            .map(|((message, parsed), slot)| {
                let cmd = parsed.as_ref().ok();
                MessageOutcome {
                    message_id: message.message_id.clone(),
                    aggregate: cmd.map(|c| c.key.clone()),
                    command: cmd.map(|c| c.command.clone()),
                    command_id: cmd.map(|c| c.command_id.clone()),
                    result: slot.into_outcome(),
                    dead_lettered: false,
                }
            })
            .collect::<Vec<_>>();

        let rejected: Vec<Rejected<'_>> = outcomes
            .iter()
            .zip(&batch.messages)
            .filter(|(o, _)| o.result.as_ref().is_err_and(Failure::is_permanent))
            .map(|(outcome, message)| Rejected { message, outcome })
            .collect();
        let now = rfc3339_millis(self.clock.now());
        let failures: Vec<FailureRecord> = outcomes
            .iter()
            .zip(&batch.messages)
            .filter_map(|(outcome, message)| outcome.failure_record(message, &now))
            .collect();
        let hand_over = async {
            match &self.rejections {
                Some(sink) if !rejected.is_empty() => {
                    let taken = until(cutoffs.after, sink.take(&rejected)).await;
                    if taken.is_none() {
                        tracing::error!(
                            count = rejected.len(),
                            "the deadline came before the dead-letter queue took the rejected messages: they stay failed and come back"
                        );
                    }
                    taken.unwrap_or_default()
                }
                _ => Vec::new(),
            }
        };
        let record = async {
            if failures.is_empty() {
                return;
            }
            match until(cutoffs.after, self.store.record_failures(&failures)).await {
                Some(Ok(())) => {}
                // The messages are reported as failed either way; only the
                // operator's note of why is missing (the log lines have it).
                Some(Err(e)) => {
                    tracing::error!(error = %e, count = failures.len(), "could not record failures");
                }
                None => tracing::error!(
                    count = failures.len(),
                    "the deadline came before the failures were recorded: only the log lines have them"
                ),
            }
        };
        let (taken, ()) = futures::future::join(hand_over, record).await;
        for outcome in &mut outcomes {
            outcome.dead_lettered = taken.contains(&outcome.message_id);
        }
        for outcome in &outcomes {
            outcome.log();
        }
        BatchReport { outcomes }
    }

    /// Runs one lane's messages in order, one [`Run`] at a time; each run of
    /// an aggregate is decided in memory and appended in as few commits as
    /// the store allows.
    async fn run_lane(
        &self,
        fifo: bool,
        machines: &Machines,
        lane: Vec<Entry<'_>>,
        work_cutoff: Option<Instant>,
    ) {
        let mut hold = HoldBack::message_group(fifo);
        for run in runs(&lane) {
            let results: Vec<(Member<'_>, Outcome)> = if let Some(held) = hold.held() {
                run.fail_all(&held)
            } else if past(work_cutoff) {
                run.fail_all(&Transient::DeadlineReached.into())
            } else {
                match run {
                    Run::Unparsable { member, error } => vec![(member, Err(error.clone()))],
                    // Every parsed type was looked up; `None` when the
                    // deadline came before its config did.
                    Run::Aggregate { key, members } => {
                        match machines.get(key.aggregate_type.as_str()).cloned().flatten() {
                            None => Run::Aggregate { key, members }
                                .fail_all(&Transient::DeadlineReached.into()),
                            Some(machine) => {
                                for (member, _) in &members {
                                    member.slot.set(SlotState::Running);
                                }
                                let pending: Vec<Pending<'_>> =
                                    members.iter().map(|&(_, pending)| pending).collect();
                                let results = run_aggregate(
                                    &self.store,
                                    machine,
                                    &self.options.retry,
                                    &*self.clock,
                                    key,
                                    &pending,
                                    fifo,
                                )
                                .await;
                                // Were a result missing, its slot would stay
                                // running and fail as `deadline`, interrupted.
                                members.into_iter().map(|(m, _)| m).zip(results).collect()
                            }
                        }
                    }
                }
            };
            if let Some((member, _)) = results.iter().find(|(_, r)| r.is_err()) {
                hold.failed(member.message_id);
            }
            for (member, result) in results {
                member.slot.set(SlotState::Done(result));
            }
        }
    }

    /// Every message's command: its body parsed as a command message, or,
    /// for an outside event, the command its binding builds. The bindings
    /// are asked of the config source once per source and detail-type
    /// (concurrently); an event whose binding has not come by `cutoff`
    /// fails as `deadline`.
    async fn parse(&self, messages: &[InboundMessage], cutoff: Option<Instant>) -> Vec<Parsed> {
        let events: Vec<Option<Result<OutsideEvent, Permanent>>> =
            messages.iter().map(|m| outside_event(&m.body)).collect();
        let mut keys: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|e| e.as_ref()?.as_ref().ok())
            .map(|e| (e.source.as_str(), e.detail_type.as_str()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let bound: HashMap<(&str, &str), Option<Bound>> = if past(cutoff) {
            keys.into_iter().map(|k| (k, None)).collect()
        } else {
            futures::future::join_all(keys.into_iter().map(|(source, detail_type)| async move {
                let bound = until(cutoff, self.configs.bound_by(source, detail_type)).await;
                ((source, detail_type), bound)
            }))
            .await
            .into_iter()
            .collect()
        };
        messages
            .iter()
            .zip(&events)
            .map(|(message, event)| match event {
                None => parse_command(&message.body, &message.message_id)
                    .map_err(|e| Permanent::Envelope(e).into()),
                Some(Err(refused)) => Err(refused.clone().into()),
                Some(Ok(event)) => {
                    match bound.get(&(event.source.as_str(), event.detail_type.as_str())) {
                        Some(Some(bound)) => bind_event(event, bound),
                        _ => Err(Transient::DeadlineReached.into()),
                    }
                }
            })
            .collect()
    }

    /// The state machine of every aggregate type in the batch, asked of the
    /// config source once per type (concurrently), before any lane starts.
    /// A type whose config has not come by `cutoff` has `None`.
    async fn machines(&self, parsed: &[Parsed], cutoff: Option<Instant>) -> Machines {
        let mut types: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|c| c.key.aggregate_type.as_str())
            .collect();
        types.sort_unstable();
        types.dedup();
        if past(cutoff) {
            return types.into_iter().map(|t| (t.to_owned(), None)).collect();
        }
        futures::future::join_all(types.into_iter().map(|t| async move {
            let machine = until(cutoff, self.configs.state_machine(t)).await;
            if machine.is_none() {
                tracing::warn!(
                    aggregate_type = t,
                    "the deadline came before the config: its messages fail as `deadline`"
                );
            }
            (t.to_owned(), machine)
        }))
        .await
        .into_iter()
        .collect()
    }
}

/// When each stage of a batch with a deadline must stop. Without a
/// deadline nothing is cut (each store or config call is bounded by its
/// client's own timeouts).
#[derive(Debug, Clone, Copy)]
struct Cutoffs {
    /// The deadline minus the margin: no aggregate starts after it, and the
    /// config fetch and the runs in progress are cut at it.
    work: Option<Instant>,
    /// The deadline minus half the margin: the rejection sink and the failure
    /// records are cut at it; the rest of the margin is for the answer.
    after: Option<Instant>,
}

impl Cutoffs {
    fn new(deadline: Option<Instant>, margin: Duration) -> Self {
        let before = |d: Instant, by: Duration| d.checked_sub(by).unwrap_or_else(Instant::now);
        Self {
            work: deadline.map(|d| before(d, margin)),
            after: deadline.map(|d| before(d, margin / 2)),
        }
    }
}

fn past(cutoff: Option<Instant>) -> bool {
    cutoff.is_some_and(|c| Instant::now() >= c)
}

/// `work`'s output, or `None` when `cutoff` came first (`work` is then
/// dropped, which cancels whatever call it was waiting on).
async fn until<F: Future>(cutoff: Option<Instant>, work: F) -> Option<F::Output> {
    match cutoff {
        Some(at) => tokio::time::timeout_at(at.into(), work).await.ok(),
        None => Some(work.await),
    }
}
