//! The third step (docs/alarms.md, "Delivery on AWS"): what an event did to
//! its aggregate's alarms, as orders for an [`AlarmSink`]. On AWS the sink
//! turns them into delayed messages and schedules; locally the default,
//! [`KeepAlarms`], does nothing (the embedded store keeps due alarms and
//! `cmdctl run` fires them).

use std::fmt;

use async_trait::async_trait;
use handler_core::{AggregateKey, StoredEvent};
use state_machine::{Alarm, AlarmRef, DerivedCommand, Timestamp, alarm_command};

use crate::delivery::DeliveryError;

/// One thing to do about one alarm.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmOrder {
    /// `alarm` was set: deliver `command` (built by
    /// [`alarm_command`]) to its aggregate when it is due.
    Arm {
        /// The aggregate that set it (and that the command goes to).
        key: AggregateKey,
        /// The alarm, as the setting event stored it.
        alarm: Alarm,
        /// The command it sends when due.
        command: DerivedCommand,
    },
    /// `alarm` was cleared (or replaced) before it was due: withdraw its
    /// delivery where one can be withdrawn. A delivery that cannot be is
    /// harmless: the handler finds the alarm gone and acknowledges it as
    /// `stale`.
    Disarm {
        /// The aggregate that had it.
        key: AggregateKey,
        /// The alarm as it was set.
        alarm: Alarm,
    },
}

impl AlarmOrder {
    /// The aggregate the order is about.
    pub fn key(&self) -> &AggregateKey {
        match self {
            AlarmOrder::Arm { key, .. } | AlarmOrder::Disarm { key, .. } => key,
        }
    }

    /// The alarm the order is about.
    pub fn alarm(&self) -> &Alarm {
        match self {
            AlarmOrder::Arm { alarm, .. } | AlarmOrder::Disarm { alarm, .. } => alarm,
        }
    }
}

/// How an order was carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmDone {
    /// The command is on the command queue, visible after `delay_seconds`
    /// (0: at once, the alarm being due already).
    Queued {
        /// The message's `DelaySeconds`.
        delay_seconds: u32,
    },
    /// A one-time schedule delivers it (created now, or found made by an
    /// earlier attempt).
    Scheduled,
    /// Its schedule is gone (deleted now, or there was none: it was a
    /// delayed message, or it fired).
    Unscheduled,
    /// Nothing to do here: the sink keeps no alarms ([`KeepAlarms`]).
    Kept,
}

/// Carries out alarm orders (on AWS: `alarm-scheduler`).
#[async_trait]
pub trait AlarmSink: Send + Sync {
    /// Carries out `orders`, given in version order per aggregate; one
    /// result per order, in the same order and of the same length. An
    /// `Err` leaves its event unfinished (retried; every order must be
    /// idempotent).
    async fn apply(&self, orders: &[AlarmOrder]) -> Vec<Result<AlarmDone, DeliveryError>>;
}

/// The default sink: does nothing with any order ([`AlarmDone::Kept`]).
/// For local runs, where the embedded store keeps the due alarms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepAlarms;

#[async_trait]
impl AlarmSink for KeepAlarms {
    async fn apply(&self, orders: &[AlarmOrder]) -> Vec<Result<AlarmDone, DeliveryError>> {
        vec![Ok(AlarmDone::Kept); orders.len()]
    }
}

#[async_trait]
impl<T: AlarmSink + ?Sized> AlarmSink for std::sync::Arc<T> {
    async fn apply(&self, orders: &[AlarmOrder]) -> Vec<Result<AlarmDone, DeliveryError>> {
        (**self).apply(orders).await
    }
}

/// The orders of one stored event: a `Disarm` for each alarm it cleared
/// that was due after the event was recorded and is not the alarm whose
/// firing the event is (one due by then has fired, or is firing; the one
/// that fired is spent: there is nothing to withdraw), then an `Arm` for
/// each alarm it set.
pub fn orders_of(stored: &StoredEvent) -> Vec<AlarmOrder> {
    let Some(changes) = &stored.event.alarms else {
        return Vec::new();
    };
    // An unreadable time withdraws every cleared alarm: a useless delete
    // costs a request, a missed one only a stale firing.
    let recorded: Option<Timestamp> = stored.event.recorded_at.parse().ok();
    let fired = AlarmRef::of_metadata(&stored.event.metadata);
    let disarms = changes
        .cleared
        .iter()
        .filter(|alarm| recorded.is_none_or(|at| alarm.due > at))
        .filter(move |alarm| {
            fired
                .as_ref()
                .is_none_or(|f| f.name != alarm.name || f.version != alarm.version)
        })
        .map(|alarm| AlarmOrder::Disarm {
            key: stored.key.clone(),
            alarm: alarm.clone(),
        });
    let arms = changes.set.iter().map(|alarm| AlarmOrder::Arm {
        key: stored.key.clone(),
        alarm: alarm.clone(),
        command: alarm_command(&stored.key.aggregate_type, &stored.key.aggregate_id, alarm),
    });
    disarms.chain(arms).collect()
}

/// What one event's orders came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlarmCounts {
    /// Commands put on the queue to be seen at once (already due).
    pub sent: usize,
    /// Commands put on the queue with a delay.
    pub delayed: usize,
    /// Schedules created (or found).
    pub scheduled: usize,
    /// Schedules deleted (or found gone).
    pub unscheduled: usize,
}

impl AlarmCounts {
    /// Counts one order's result.
    pub(crate) fn count(&mut self, done: AlarmDone) {
        match done {
            AlarmDone::Queued { delay_seconds: 0 } => self.sent += 1,
            AlarmDone::Queued { .. } => self.delayed += 1,
            AlarmDone::Scheduled => self.scheduled += 1,
            AlarmDone::Unscheduled => self.unscheduled += 1,
            AlarmDone::Kept => {}
        }
    }

    /// True when nothing was counted.
    pub fn is_empty(&self) -> bool {
        *self == AlarmCounts::default()
    }
}

impl std::ops::Add for AlarmCounts {
    type Output = AlarmCounts;
    fn add(self, o: AlarmCounts) -> AlarmCounts {
        AlarmCounts {
            sent: self.sent + o.sent,
            delayed: self.delayed + o.delayed,
            scheduled: self.scheduled + o.scheduled,
            unscheduled: self.unscheduled + o.unscheduled,
        }
    }
}

impl fmt::Display for AlarmCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} delayed, {} scheduled, {} unscheduled",
            self.sent, self.delayed, self.scheduled, self.unscheduled
        )
    }
}
