//! The delivery decisions of docs/alarms.md ("Delivery on AWS"), with no
//! network: given an order, the time now, the queue's kind and the
//! settings, what to do.
//!
//! | order | due | standard queue | FIFO queue |
//! | --- | --- | --- | --- |
//! | arm | now or past | `SendMessage` at once | `SendMessage` at once |
//! | arm | within 15 minutes (900 s, counted in whole seconds, rounded down) | `SendMessage`, `DelaySeconds` | `CreateSchedule` |
//! | arm | later | `CreateSchedule` | `CreateSchedule` |
//! | disarm | | `DeleteSchedule` | `DeleteSchedule` |
//!
//! A schedule fires `at(...)` the due time in UTC, with no flexible window,
//! deletes itself after it fired, sends the command (the same body as the
//! queued path) to the command queue (on FIFO in the aggregate's message
//! group), and has the command dead-letter queue as its target's.

use command_messages::MAX_DELAY_SECONDS;
use command_messages::envelope::group_id;
use command_messages::sqs_text::json_body;
use event_processor::{AlarmOrder, DeliveryError};
use state_machine::Timestamp;

use crate::settings::ScheduleSettings;
use state_machine::ids::schedule_name;

/// What to do for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `SendMessage` of the command, hidden for `delay_seconds` (0: at once).
    Send {
        /// `DelaySeconds` (never on a FIFO queue).
        delay_seconds: u32,
    },
    /// `CreateSchedule`.
    Schedule(Schedule),
    /// `DeleteSchedule` of `name` in `group`; not found is done.
    Delete {
        /// The schedule group.
        group: String,
        /// The alarm's schedule name.
        name: String,
    },
    /// Nothing: a cleared alarm when no schedule group is set (no schedule
    /// can have been made).
    Nothing,
}

/// One one-time schedule, as `CreateSchedule` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The schedule group.
    pub group: String,
    /// The derived name ([`schedule_name`]).
    pub name: String,
    /// `at(yyyy-mm-ddThh:mm:ss)`, in [`TIMEZONE`].
    pub expression: String,
    /// The command queue's ARN.
    pub target_arn: String,
    /// The role the scheduler sends with.
    pub role_arn: String,
    /// The target's dead-letter queue.
    pub dlq_arn: String,
    /// The message body: the command's JSON.
    pub input: String,
    /// On a FIFO queue, the message group (the aggregate's).
    pub message_group: Option<String>,
}

/// The time zone of every schedule expression.
pub const TIMEZONE: &str = "UTC";

/// What to do for `order` at `now`, on a FIFO queue or not.
///
/// # Errors
/// An alarm that needs a schedule while a setting is missing (the reason
/// names the variable), or a command that cannot be written as JSON.
pub fn step(
    order: &AlarmOrder,
    now: Timestamp,
    fifo: bool,
    settings: &ScheduleSettings,
) -> Result<Step, DeliveryError> {
    match order {
        AlarmOrder::Disarm { key, alarm } => Ok(match settings.group() {
            Some(group) => Step::Delete {
                group: group.to_owned(),
                name: schedule_name(&key.to_string(), &alarm.name, alarm.version),
            },
            None => Step::Nothing,
        }),
        AlarmOrder::Arm {
            key,
            alarm,
            command,
        } => {
            let wait = seconds_until(alarm.due, now);
            if wait == 0 {
                return Ok(Step::Send { delay_seconds: 0 });
            }
            if !fifo && wait <= u64::from(MAX_DELAY_SECONDS) {
                return Ok(Step::Send {
                    delay_seconds: u32::try_from(wait).unwrap_or(MAX_DELAY_SECONDS),
                });
            }
            let target = settings.target().map_err(|variable| {
                DeliveryError::transient(format!(
                    "alarm `{}` needs a schedule ({}) but {variable} is not set",
                    alarm.name,
                    if fifo {
                        "it is not due yet and the command queue is FIFO"
                    } else {
                        "it is due in more than 15 minutes"
                    }
                ))
            })?;
            Ok(Step::Schedule(Schedule {
                group: target.group.to_owned(),
                name: schedule_name(&key.to_string(), &alarm.name, alarm.version),
                expression: at_expression(alarm.due),
                target_arn: target.queue_arn.to_owned(),
                role_arn: target.role_arn.to_owned(),
                dlq_arn: target.dlq_arn.to_owned(),
                input: json_body(command).map_err(|e| {
                    DeliveryError::permanent("the command cannot be written as JSON").with_source(e)
                })?,
                message_group: fifo
                    .then(|| group_id(&command.aggregate_type, &command.aggregate_id)),
            }))
        }
    }
}

/// Whole seconds from `now` until `due`, rounded down; 0 when it is due
/// within the second. Down, not up: `due` is itself the alarm's moment
/// rounded up to the second, so an alarm set for 15 minutes (`PT15M`) is
/// still within SQS's 900 seconds when the processor sees it, and a delayed
/// message is never visible more than a second before `due` (SQS's delay is
/// no finer than that anyway).
pub fn seconds_until(due: Timestamp, now: Timestamp) -> u64 {
    let whole = due.as_second() - now.as_second();
    let part = due.subsec_nanosecond() - now.subsec_nanosecond();
    let wait = if part < 0 { whole - 1 } else { whole };
    u64::try_from(wait).unwrap_or(0)
}

/// `at(yyyy-mm-ddThh:mm:ss)` of `due` in UTC.
///
/// ```
/// let due: state_machine::Timestamp = "2027-03-01T09:30:05Z".parse().unwrap();
/// assert_eq!(alarm_scheduler::at_expression(due), "at(2027-03-01T09:30:05)");
/// ```
pub fn at_expression(due: Timestamp) -> String {
    format!("at({})", due.strftime("%Y-%m-%dT%H:%M:%S"))
}
