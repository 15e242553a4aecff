//! The event processor's alarms on AWS (docs/alarms.md, "Delivery on AWS";
//! docs/operating.md has the resources): [`SchedulingSink`], the
//! [`AlarmSink`](event_processor::AlarmSink) the processor Lambda hands the
//! alarms its events set and clear.
//!
//! - [`decide`]: what to do for one order, with no network: an alarm due
//!   now or within 15 minutes on a standard queue is the command as a
//!   `SendMessage` with `DelaySeconds`; a later one, or any future one on a
//!   FIFO queue (which takes no per-message delay), is an EventBridge
//!   Scheduler one-time schedule, named by `state_machine::ids::schedule_name`
//!   from aggregate, alarm and version, so that a retried creation answers
//!   `ConflictException` (done) and a clear deletes without reading; a
//!   cleared alarm's schedule is deleted;
//! - [`settings`]: what a schedule needs (group, role, target queue, its
//!   dead-letter queue) and the variable each comes from;
//! - [`api`]: `CreateSchedule` / `DeleteSchedule` behind [`ScheduleApi`],
//!   over the SDK in [`SdkSchedules`];
//! - [`sink`]: all of the above, per batch.
//!
//! Every step is idempotent: a queued alarm sent twice is one command (its
//! `commandId`), a schedule created twice is one schedule, a deletion of a
//! schedule not there is done. A missed deletion is harmless: the handler
//! finds the alarm gone and acknowledges its firing as `stale`.
//!
//! Depends on `event-processor` (the trait), `handler-core` (the clock),
//! `state-machine` (the alarm's time), `sqs-commands` (the queued path),
//! `sdk-error` and `aws-sdk-scheduler`.
#![forbid(unsafe_code)]

pub mod api;
pub mod decide;
pub mod settings;
pub mod sink;

pub use api::{Created, Deleted, ScheduleApi, SdkSchedules};
pub use decide::{Schedule, Step, TIMEZONE, at_expression, seconds_until, step};
pub use settings::{ScheduleSettings, ScheduleTarget, Setting};
pub use sink::{MAX_CONCURRENT_CALLS, SchedulingSink};
