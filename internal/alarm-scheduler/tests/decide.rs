//! The delivery decisions, with no network: which path an alarm takes by
//! when it is due and the queue's kind, the schedule's exact shape, the
//! derived names, and the refusal that names a missing variable.

use event_processor::AlarmOrder;
use handler_core::AggregateKey;
use handler_core::state_machine::{Alarm, Timestamp, alarm_command};
use serde_json::{Value, json};

use alarm_scheduler::{Schedule, ScheduleSettings, Setting, Step, step};
use handler_core::state_machine::ids::schedule_name;

const NOW: &str = "2026-11-30T12:00:00.250Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn settings() -> ScheduleSettings {
    let set = |variable, value: &str| Setting::new(variable, Some(value.to_owned()));
    ScheduleSettings {
        group: set("SCHEDULE_GROUP_NAME", "stack-alarms"),
        role_arn: set("SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/scheduler"),
        queue_arn: set("COMMAND_QUEUE_ARN", "arn:aws:sqs:us-east-1:1:commands"),
        dlq_arn: set("SCHEDULE_DLQ_ARN", "arn:aws:sqs:us-east-1:1:commands-dlq"),
    }
}

fn unset() -> ScheduleSettings {
    let none = |variable| Setting::new(variable, None);
    ScheduleSettings {
        group: none("SCHEDULE_GROUP_NAME"),
        role_arn: none("SCHEDULER_ROLE_ARN"),
        queue_arn: none("COMMAND_QUEUE_ARN"),
        dlq_arn: none("SCHEDULE_DLQ_ARN"),
    }
}

fn alarm(due: &str) -> Alarm {
    Alarm {
        name: "payment-timeout".into(),
        due: due.parse().unwrap(),
        version: 2,
        command: "PaymentTimedOut".into(),
        payload: json!({"reason": "timeout"}).as_object().cloned().unwrap(),
        correlation_id: Some("place-o-1".into()),
        hops: 0,
    }
}

fn arm(due: &str) -> AlarmOrder {
    let alarm = alarm(due);
    AlarmOrder::Arm {
        key: AggregateKey::new("order", "o-1"),
        command: alarm_command("order", "o-1", &alarm),
        alarm,
    }
}

fn disarm(due: &str) -> AlarmOrder {
    AlarmOrder::Disarm {
        key: AggregateKey::new("order", "o-1"),
        alarm: alarm(due),
    }
}

fn send(delay_seconds: u32) -> Step {
    Step::Send { delay_seconds }
}

#[test]
fn a_standard_queue_delays_up_to_15_minutes_and_schedules_beyond() {
    let at = |due: &str| step(&arm(due), now(), false, &settings()).unwrap();
    // Past, or due within the second: at once.
    assert_eq!(at("2026-11-30T11:00:00Z"), send(0));
    assert_eq!(at("2026-11-30T12:00:00Z"), send(0));
    // Rounded down to the whole second: 0.75 s is 0, 4.75 s is 4.
    assert_eq!(at("2026-11-30T12:00:01Z"), send(0));
    assert_eq!(at("2026-11-30T12:00:05Z"), send(4));
    // An alarm set for 15 minutes (`due` rounded up from its moment) ...
    assert_eq!(at("2026-11-30T12:15:00Z"), send(899));
    // ... and 900 s, SQS's longest delay ...
    assert_eq!(at("2026-11-30T12:15:01Z"), send(900));
    // ... past it, a schedule.
    assert!(matches!(at("2026-11-30T12:15:02Z"), Step::Schedule(_)));
    assert!(matches!(at("2027-11-30T12:00:00Z"), Step::Schedule(_)));
}

#[test]
fn a_fifo_queue_takes_no_delay_so_every_future_alarm_is_a_schedule() {
    let at = |due: &str| step(&arm(due), now(), true, &settings()).unwrap();
    assert_eq!(at("2026-11-30T11:59:00Z"), send(0));
    assert_eq!(at("2026-11-30T12:00:01Z"), send(0), "due within the second");
    let Step::Schedule(schedule) = at("2026-11-30T12:00:05Z") else {
        panic!("a schedule")
    };
    assert_eq!(schedule.message_group.as_deref(), Some("order#o-1"));
    assert_eq!(schedule.expression, "at(2026-11-30T12:00:05)");
}

#[test]
fn the_schedule_is_one_time_in_utc_to_the_command_queue_with_its_dlq() {
    let Step::Schedule(schedule) =
        step(&arm("2026-12-01T09:30:00Z"), now(), false, &settings()).unwrap()
    else {
        panic!("a schedule")
    };
    let input: Value = serde_json::from_str(&schedule.input).unwrap();
    assert_eq!(
        schedule,
        Schedule {
            group: "stack-alarms".into(),
            name: schedule_name("order#o-1", "payment-timeout", 2),
            expression: "at(2026-12-01T09:30:00)".into(),
            target_arn: "arn:aws:sqs:us-east-1:1:commands".into(),
            role_arn: "arn:aws:iam::1:role/scheduler".into(),
            dlq_arn: "arn:aws:sqs:us-east-1:1:commands-dlq".into(),
            input: schedule.input.clone(),
            message_group: None,
        }
    );
    // The input is the command message the queued path sends.
    assert_eq!(
        input,
        json!({
            "commandId": "order#o-1@2/alarm/payment-timeout",
            "aggregateType": "order", "aggregateId": "o-1", "command": "PaymentTimedOut",
            "payload": {"reason": "timeout"},
            "metadata": {"alarm": {"name": "payment-timeout", "version": 2},
                         "causationId": "order#o-1@2", "correlationId": "place-o-1"}
        })
    );
    assert_eq!(alarm_scheduler::TIMEZONE, "UTC");
}

#[test]
fn a_cleared_alarm_deletes_its_derived_schedule_whatever_path_it_took() {
    for due in ["2026-11-30T12:05:00Z", "2027-01-01T00:00:00Z"] {
        assert_eq!(
            step(&disarm(due), now(), false, &settings()).unwrap(),
            Step::Delete {
                group: "stack-alarms".into(),
                name: schedule_name("order#o-1", "payment-timeout", 2),
            }
        );
    }
    // With no group, no schedule can have been made.
    assert_eq!(
        step(&disarm("2027-01-01T00:00:00Z"), now(), false, &unset()).unwrap(),
        Step::Nothing
    );
}

#[test]
fn an_alarm_that_needs_a_schedule_names_the_missing_variable() {
    // The queued path needs none of them.
    assert_eq!(
        step(&arm("2026-11-30T12:10:00Z"), now(), false, &unset()).unwrap(),
        send(599)
    );
    let err = step(&arm("2026-11-30T13:00:00Z"), now(), false, &unset()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "alarm `payment-timeout` needs a schedule (it is due in more than 15 minutes) \
         but SCHEDULE_GROUP_NAME is not set"
    );
    let mut partial = settings();
    partial.dlq_arn = Setting::new("SCHEDULE_DLQ_ARN", Some(String::new()));
    let err = step(&arm("2026-11-30T12:00:30Z"), now(), true, &partial).unwrap_err();
    assert_eq!(
        err.to_string(),
        "alarm `payment-timeout` needs a schedule (it is not due yet and the command queue \
         is FIFO) but SCHEDULE_DLQ_ARN is not set"
    );
}
