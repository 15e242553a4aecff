//! The event processor's alarms on EventBridge Scheduler (docs/alarms.md,
//! "Delivery on AWS"; docs/operating.md has the resources): what to do
//! for each alarm order and the scheduler's calls. The processor Lambda's
//! wiring (`processor-lambda`, its `SchedulingSink`) combines them with the
//! command queue's sink into the
//! [`AlarmSink`](event_processor::AlarmSink) it hands the alarms its events
//! set and clear.
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
//!   over the SDK in [`SdkSchedules`].
//!
//! Every step is idempotent: a queued alarm sent twice is one command (its
//! `commandId`), a schedule created twice is one schedule, a deletion of a
//! schedule not there is done. A missed deletion is harmless: the handler
//! finds the alarm gone and acknowledges its firing as `stale`.
//!
//! What it may depend on: the engine whose orders it carries out
//! (`event-processor`), `pkg/` crates (the alarm's time), the AWS-free
//! `command-messages` (the command's body and group), `sdk-error` and the
//! Scheduler SDK; never another adapter.
#![forbid(unsafe_code)]

pub mod api;
pub mod decide;
pub mod settings;

pub use api::{Created, Deleted, ScheduleApi, SdkSchedules};
pub use decide::{Schedule, Step, TIMEZONE, at_expression, seconds_until, step};
pub use settings::{ScheduleSettings, ScheduleTarget, Setting};
