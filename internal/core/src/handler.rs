//! The batch handler: parses every message, groups them into lanes (one per
//! aggregate, or one per message group on FIFO), runs the lanes concurrently
//! and each lane's messages in order, and reports one outcome per message.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use state_machine::StateMachine;

use crate::aggregate::{Pending, run_aggregate};
use crate::batch::{Batch, BatchReport, MessageOutcome};
use crate::config_source::{ConfigSource, ConfigSourceError};
use crate::envelope::{Command, EnvelopeError, parse_command};
use crate::failure::{Failure, Rejection, Transient};
use crate::failure_log::FailureRecord;
use crate::model::{AggregateKey, now_rfc3339};
use crate::rejection_sink::{Rejected, RejectionSink};
use crate::store::EventStore;

/// Tunables of the handler.
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    /// Lanes (aggregates) worked on at once.
    pub concurrency: usize,
    /// Attempts at one aggregate's append when other writers win the race.
    pub max_attempts: u32,
    /// No new aggregate is started when less than this is left before the
    /// batch's deadline.
    pub deadline_margin: Duration,
    /// The first pause before deciding again after a lost race; it doubles
    /// per attempt up to `retry_max_delay`, and each pause is drawn at random
    /// below that bound (full jitter), so racing writers spread out.
    pub retry_base_delay: Duration,
    /// The largest pause between attempts.
    pub retry_max_delay: Duration,
}

impl Default for HandlerOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            max_attempts: 5,
            deadline_margin: Duration::from_secs(2),
            retry_base_delay: Duration::from_millis(20),
            retry_max_delay: Duration::from_millis(500),
        }
    }
}

/// The command handler over an event store and a config source.
pub struct Handler<S, C> {
    store: S,
    configs: C,
    options: HandlerOptions,
    rejections: Option<Arc<dyn RejectionSink>>,
}

impl<S: std::fmt::Debug, C: std::fmt::Debug> std::fmt::Debug for Handler<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("store", &self.store)
            .field("configs", &self.configs)
            .field("options", &self.options)
            .field("rejection_sink", &self.rejections.is_some())
            .finish()
    }
}

/// A message after parsing.
type Parsed = Result<Command, EnvelopeError>;

/// The batch's state machines by aggregate type.
type Machines = HashMap<String, Result<Arc<StateMachine>, ConfigSourceError>>;

impl<S: EventStore, C: ConfigSource> Handler<S, C> {
    /// A handler with default options.
    pub fn new(store: S, configs: C) -> Self {
        Self {
            store,
            configs,
            options: HandlerOptions::default(),
            rejections: None,
        }
    }

    /// Hands permanent rejections to `sink` (the dead-letter queue) at once,
    /// instead of letting them fail every receive until the redrive policy
    /// moves them.
    pub fn with_rejection_sink(mut self, sink: Arc<dyn RejectionSink>) -> Self {
        self.rejections = Some(sink);
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

    /// Handles one batch. Never fails as a whole: every message gets an
    /// outcome, and each outcome is logged as one JSON line.
    pub async fn handle(&self, batch: Batch) -> BatchReport {
        let parsed: Vec<Parsed> = batch
            .messages
            .iter()
            .map(|m| parse_command(&m.body, &m.message_id))
            .collect();
        let lanes = lanes(&batch, &parsed);
        let machines = self.machines(&parsed).await;

        let mut results: Vec<Option<Result<_, Failure>>> = vec![None; parsed.len()];
        let concurrency = self.options.concurrency.max(1);
        let mut finished = futures::stream::iter(lanes)
            .map(|lane| self.run_lane(&batch, &parsed, &machines, lane))
            .buffer_unordered(concurrency);
        while let Some(lane_results) = finished.next().await {
            for (idx, result) in lane_results {
                results[idx] = Some(result);
            }
        }
        drop(finished);

        let mut outcomes = batch
            .messages
            .iter()
            .zip(parsed)
            .zip(results)
            .map(|((message, parsed), result)| {
                let cmd = parsed.as_ref().ok();
                MessageOutcome {
                    message_id: message.message_id.clone(),
                    aggregate: cmd.map(|c| c.key.clone()),
                    command: cmd.map(|c| c.command.clone()),
                    command_id: cmd.map(|c| c.command_id.clone()),
                    result: result.expect("every lane reports each of its messages"),
                    dead_lettered: false,
                }
            })
            .collect::<Vec<_>>();
        if let Some(sink) = &self.rejections {
            let rejected: Vec<Rejected<'_>> = outcomes
                .iter()
                .zip(&batch.messages)
                .filter(|(o, _)| o.result.as_ref().is_err_and(Failure::is_permanent))
                .map(|(outcome, message)| Rejected { message, outcome })
                .collect();
            if !rejected.is_empty() {
                let taken = sink.take(&rejected).await;
                for outcome in &mut outcomes {
                    outcome.dead_lettered = taken.contains(&outcome.message_id);
                }
            }
        }
        for outcome in &outcomes {
            outcome.log();
        }
        let now = now_rfc3339();
        let failures: Vec<FailureRecord> = outcomes
            .iter()
            .zip(&batch.messages)
            .filter_map(|(outcome, message)| FailureRecord::of(outcome, message, &now))
            .collect();
        if !failures.is_empty()
            && let Err(e) = self.store.record_failures(&failures).await
        {
            // The messages are reported as failed either way; only the
            // operator's note of why is missing.
            tracing::error!(error = %e, count = failures.len(), "could not record failures");
        }
        BatchReport { outcomes }
    }

    /// Runs one lane's messages in order. A lane is split into runs of
    /// consecutive messages for one aggregate; each run is decided in memory
    /// and appended in as few commits as the store allows.
    async fn run_lane(
        &self,
        batch: &Batch,
        parsed: &[Parsed],
        machines: &Machines,
        lane: Vec<usize>,
    ) -> Vec<(usize, Result<crate::batch::Applied, Failure>)> {
        let scope = if batch.fifo {
            "message group"
        } else {
            "aggregate"
        };
        let mut out = Vec::with_capacity(lane.len());
        let mut blocked_by: Option<String> = None;
        let mut rest = &lane[..];
        while let Some(&first) = rest.first() {
            let run_len = match &parsed[first] {
                Err(_) => 1,
                Ok(cmd) => rest
                    .iter()
                    .take_while(|&&i| matches!(&parsed[i], Ok(c) if c.key == cmd.key))
                    .count(),
            };
            let (run, tail) = rest.split_at(run_len);
            rest = tail;

            let results: Vec<(usize, Result<_, Failure>)> = if let Some(b) = &blocked_by {
                let held = Failure::from(Transient::HeldBack {
                    blocked_by: b.clone(),
                    scope,
                });
                run.iter().map(|&i| (i, Err(held.clone()))).collect()
            } else if self.past_deadline(batch.deadline) {
                run.iter()
                    .map(|&i| (i, Err(Transient::DeadlineReached.into())))
                    .collect()
            } else if let Err(e) = &parsed[first] {
                vec![(first, Err(Rejection::Envelope(e.clone()).into()))]
            } else {
                let pending: Vec<Pending<'_>> = run
                    .iter()
                    .map(|&i| Pending {
                        message_id: &batch.messages[i].message_id,
                        command: parsed[i].as_ref().expect("runs hold parsed commands"),
                    })
                    .collect();
                let key: &AggregateKey = &pending[0].command.key;
                let machine = machines
                    .get(key.aggregate_type.as_str())
                    .cloned()
                    .expect("every parsed type was looked up");
                let results = run_aggregate(
                    &self.store,
                    machine,
                    &self.options,
                    key,
                    &pending,
                    batch.fifo,
                )
                .await;
                run.iter().copied().zip(results).collect()
            };
            if batch.fifo && blocked_by.is_none() {
                blocked_by = results
                    .iter()
                    .find(|(_, r)| r.is_err())
                    .map(|(i, _)| batch.messages[*i].message_id.clone());
            }
            out.extend(results);
        }
        out
    }

    /// The state machine of every aggregate type in the batch, asked of the
    /// config source once per type (concurrently), before any lane starts.
    async fn machines(&self, parsed: &[Parsed]) -> Machines {
        let mut types: Vec<&str> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok())
            .map(|c| c.key.aggregate_type.as_str())
            .collect();
        types.sort_unstable();
        types.dedup();
        futures::future::join_all(
            types
                .into_iter()
                .map(|t| async move { (t.to_owned(), self.configs.state_machine(t).await) }),
        )
        .await
        .into_iter()
        .collect()
    }

    fn past_deadline(&self, deadline: Option<Instant>) -> bool {
        deadline.is_some_and(|d| Instant::now() + self.options.deadline_margin >= d)
    }
}

/// Groups message indexes into lanes, keeping their order: on FIFO one lane
/// per message group, otherwise one per aggregate. A message that cannot be
/// placed (unparsable on a standard queue, no group on FIFO) is a lane of
/// its own.
fn lanes(batch: &Batch, parsed: &[Parsed]) -> Vec<Vec<usize>> {
    #[derive(PartialEq, Eq, Hash)]
    enum LaneKey<'a> {
        Group(&'a str),
        Aggregate(&'a AggregateKey),
    }
    let mut lanes: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<LaneKey<'_>, usize> = HashMap::new();
    for (i, (message, parsed)) in batch.messages.iter().zip(parsed).enumerate() {
        let key = match (batch.fifo, &message.message_group_id, parsed) {
            (true, Some(group), _) => Some(LaneKey::Group(group)),
            (false, _, Ok(cmd)) => Some(LaneKey::Aggregate(&cmd.key)),
            _ => None,
        };
        match key {
            Some(k) => {
                let lane = *index.entry(k).or_insert_with(|| {
                    lanes.push(Vec::new());
                    lanes.len() - 1
                });
                lanes[lane].push(i);
            }
            None => lanes.push(vec![i]),
        }
    }
    lanes
}
