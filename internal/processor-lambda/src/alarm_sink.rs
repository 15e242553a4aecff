//! [`SchedulingSink`]: the event processor's [`AlarmSink`] on AWS, the
//! command queue's sink (`sqs-commands`) and the scheduler
//! (`alarm-scheduler`) combined. Each order is decided ([`step`]) and
//! carried out: the queued ones in
//! `SendMessageBatch` requests through the reactions' own sink (so the body,
//! FIFO group and deduplication id are the reactions'), the schedules
//! created at most [`MAX_CONCURRENT_CALLS`] at a time, then the deletions.
//! Deletions come last: an alarm set and cleared within one batch has its
//! schedule made before it is deleted (every name is one alarm of one
//! version, so nothing else depends on the order).

use std::sync::Arc;

use alarm_scheduler::{ScheduleApi, ScheduleSettings, SdkSchedules, Step, step};
use async_trait::async_trait;
use event_processor::{AlarmDone, AlarmOrder, AlarmSink, DeliveryError};
use futures::StreamExt;
use handler_core::{Clock, SystemClock};
use sqs_batch::Outgoing;
use sqs_commands::sink::SqsCommandSink;

/// How many scheduler calls one batch has in flight at once.
pub const MAX_CONCURRENT_CALLS: usize = 8;

/// Alarms to the command queue and the scheduler.
#[derive(Debug)]
pub struct SchedulingSink<A = SdkSchedules> {
    queue: SqsCommandSink,
    api: A,
    settings: ScheduleSettings,
    clock: Arc<dyn Clock>,
}

impl<A: ScheduleApi> SchedulingSink<A> {
    /// Queued alarms through `queue` (the reactions' sink on the command
    /// queue), schedules through `api` with `settings`, on the system clock.
    pub fn new(queue: SqsCommandSink, api: A, settings: ScheduleSettings) -> Self {
        Self {
            queue,
            api,
            settings,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same sink reading "now" from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The scheduler calls.
    pub fn api(&self) -> &A {
        &self.api
    }

    /// The settings schedules are made with.
    pub fn settings(&self) -> &ScheduleSettings {
        &self.settings
    }

    async fn carry_out(&self, step: Step) -> Result<AlarmDone, DeliveryError> {
        match step {
            Step::Schedule(schedule) => self
                .api
                .create(&schedule)
                .await
                .map(|_| AlarmDone::Scheduled)
                .map_err(DeliveryError::transient),
            Step::Delete { group, name } => self
                .api
                .delete(&group, &name)
                .await
                .map(|_| AlarmDone::Unscheduled)
                .map_err(DeliveryError::transient),
            Step::Nothing => Ok(AlarmDone::Unscheduled),
            Step::Send { delay_seconds } => Ok(AlarmDone::Queued { delay_seconds }),
        }
    }
}

#[async_trait]
impl<A: ScheduleApi> AlarmSink for SchedulingSink<A> {
    async fn apply(&self, orders: &[AlarmOrder]) -> Vec<Result<AlarmDone, DeliveryError>> {
        let now = self.clock.now();
        let fifo = self.queue.is_fifo();
        let steps: Vec<Result<Step, DeliveryError>> = orders
            .iter()
            .map(|order| step(order, now, fifo, &self.settings))
            .collect();
        let mut results: Vec<Result<AlarmDone, DeliveryError>> =
            vec![Err(DeliveryError::transient("not carried out")); orders.len()];

        // The queued ones, in one go.
        let mut queued: Vec<(usize, u32)> = Vec::new();
        let mut messages: Vec<Result<Outgoing, DeliveryError>> = Vec::new();
        for (index, (order, step)) in orders.iter().zip(&steps).enumerate() {
            if let (AlarmOrder::Arm { command, .. }, Ok(Step::Send { delay_seconds })) =
                (order, step)
            {
                let message = self.queue.message(command).map(|m| match delay_seconds {
                    0 => m,
                    d => m.with_delay(*d),
                });
                queued.push((index, *delay_seconds));
                messages.push(message);
            }
        }
        if !messages.is_empty() {
            let sent = self.queue.send_messages(&messages).await;
            for ((index, delay_seconds), result) in queued.into_iter().zip(sent) {
                results[index] = result.map(|()| AlarmDone::Queued { delay_seconds });
            }
        }

        // The scheduler's calls: creations first, then deletions.
        for deletions in [false, true] {
            let calls: Vec<_> = steps
                .iter()
                .enumerate()
                .filter_map(|(index, step)| match step {
                    Ok(s @ Step::Schedule(_)) if !deletions => Some((index, s.clone())),
                    Ok(s @ (Step::Delete { .. } | Step::Nothing)) if deletions => {
                        Some((index, s.clone()))
                    }
                    _ => None,
                })
                .map(|(index, s)| async move { (index, self.carry_out(s).await) })
                .collect();
            let done: Vec<(usize, Result<AlarmDone, DeliveryError>)> = futures::stream::iter(calls)
                .buffer_unordered(MAX_CONCURRENT_CALLS)
                .collect()
                .await;
            for (index, result) in done {
                results[index] = result;
            }
        }

        // The orders that could not be decided.
        for (index, step) in steps.into_iter().enumerate() {
            if let Err(e) = step {
                results[index] = Err(e);
            }
        }
        results
    }
}
