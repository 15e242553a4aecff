//! Alarms on moto (docs/alarms.md, "Delivery on AWS"): the handler stores
//! the events that set and clear alarms, the table's stream is read as
//! Lambda reads it and handed to the processor with its AWS alarm sink
//! (`alarm-scheduler`); what it queues reaches the command queue, what it
//! schedules is read back from moto's EventBridge Scheduler. moto's
//! Scheduler creates, lists and deletes schedules but never fires them: a
//! firing is the schedule's target input sent to the queue by hand.
//!
//! The fixture `tests/fixtures/alarms/timer.json`: `Start` sets alarm
//! `ring` at the payload's `at`, `Snooze` sets it again, `Stop` clears it,
//! `Poke` moves on to a state where `Ring` does not apply; every timer
//! expires after a year. The order saga's payment timeout runs on the
//! repository's configs ([`saga`]).

mod env;
mod fifo;
pub(crate) mod rig;
mod saga;
mod schedules;
mod short_path;
mod stale;
