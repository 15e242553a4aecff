//! The scheduler path on moto: an alarm due in more than 15 minutes is a
//! one-time schedule of the documented shape, listed in the group; a retried
//! creation changes nothing; a clear deletes it; the schedule's target input
//! delivered by hand (moto never fires) is a command the handler applies.

use std::collections::BTreeSet;

use aws_sdk_scheduler::types::{ActionAfterCompletion, FlexibleTimeWindowMode};
use handler_core::state_machine::alarm_command;
use handler_core::state_machine::ids::schedule_name;
use serde_json::Value;

use super::rig::{AlarmRig, from_now, start, timer};

#[tokio::test]
async fn a_later_alarm_is_a_one_time_schedule_and_a_retry_makes_no_second() {
    let mut rig = AlarmRig::new().await;
    let due = from_now(2 * 3600);
    let applied = rig.rig.apply(&[start("t-1", &due)]).await;
    assert!(applied.batch_item_failures.is_empty(), "{applied:?}");
    let (records, report) = rig.process().await;
    // `ring` in two hours and the config's one-year `expiry`: two schedules.
    assert_eq!(report.alarms().scheduled, 2, "{report:?}");
    assert_eq!(rig.scheduler_requests.sent(), ["CreateSchedule"; 2]);
    assert!(rig.rig.sink_requests.sent().is_empty(), "nothing queued");

    let ring = schedule_name("timer#t-1", "ring", 1);
    let expiry = schedule_name("timer#t-1", "expiry", 1);
    assert_eq!(
        rig.schedule_names().await,
        BTreeSet::from([ring.clone(), expiry.clone()])
    );
    let schedule = rig.schedule(&ring).await.expect("the ring schedule");
    let expected_at = format!("at({})", due.trim_end_matches('Z'));
    assert_eq!(schedule.schedule_expression(), Some(expected_at.as_str()));
    assert_eq!(schedule.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(
        schedule.flexible_time_window().map(|w| w.mode()),
        Some(&FlexibleTimeWindowMode::Off)
    );
    assert_eq!(
        schedule.action_after_completion(),
        Some(&ActionAfterCompletion::Delete)
    );
    let target = schedule.target().expect("a target");
    assert_eq!(target.arn(), rig.queue_arn);
    assert_eq!(target.role_arn(), super::rig::ROLE_ARN);
    assert_eq!(
        target.dead_letter_config().and_then(|d| d.arn()),
        Some(rig.dlq_arn.as_str())
    );
    assert!(target.sqs_parameters().is_none(), "a standard queue");
    // The input is the alarm's command, as every path sends it.
    let stored = rig.rig.events("timer", "t-1").await;
    let set = stored[0].alarms.as_ref().expect("Started sets alarms");
    let ring_alarm = set.set.iter().find(|a| a.name == "ring").expect("ring");
    let input: Value = serde_json::from_str(target.input().expect("an input")).unwrap();
    assert_eq!(
        input,
        serde_json::to_value(alarm_command("timer", "t-1", ring_alarm)).unwrap()
    );
    assert_eq!(input["commandId"], "timer#t-1@1/alarm/ring");

    // The stream hands the same records again: each creation answers
    // ConflictException, taken as done; still two schedules.
    rig.scheduler_requests.reset();
    let again = rig.process_records(&records).await;
    assert_eq!(again.alarms().scheduled, 2);
    assert_eq!(rig.scheduler_requests.sent(), ["CreateSchedule"; 2]);
    assert_eq!(rig.schedule_names().await.len(), 2);
}

#[tokio::test]
async fn clearing_an_alarm_deletes_its_schedule_and_a_second_delete_is_done() {
    let mut rig = AlarmRig::new().await;
    let due = from_now(3600);
    rig.rig.apply(&[start("t-1", &due)]).await;
    rig.process().await;
    let ring = schedule_name("timer#t-1", "ring", 1);
    assert!(rig.schedule(&ring).await.is_some());

    rig.rig
        .apply(&[timer("t-1", "Stop", serde_json::json!({}))])
        .await;
    rig.scheduler_requests.reset();
    let (records, report) = rig.process().await;
    assert_eq!(report.alarms().unscheduled, 1, "{report:?}");
    assert_eq!(rig.scheduler_requests.sent(), ["DeleteSchedule"]);
    assert!(rig.schedule(&ring).await.is_none(), "deleted");
    assert_eq!(
        rig.schedule_names().await,
        BTreeSet::from([schedule_name("timer#t-1", "expiry", 1)]),
        "the expiry stays"
    );
    // Retried: ResourceNotFoundException, taken as done.
    let again = rig.process_records(&records).await;
    assert_eq!(again.alarms().unscheduled, 1);
}

#[tokio::test]
async fn a_scheduled_command_delivered_by_hand_applies_once() {
    let mut rig = AlarmRig::new().await;
    let due = from_now(3600);
    rig.rig.apply(&[start("t-1", &due)]).await;
    rig.process().await;
    let ring = schedule_name("timer#t-1", "ring", 1);
    let input = rig
        .schedule(&ring)
        .await
        .and_then(|s| s.target().and_then(|t| t.input().map(str::to_owned)))
        .expect("the schedule's input");
    // What the scheduler would do when due: send the input to the target.
    let body: Value = serde_json::from_str(&input).expect("JSON");
    for _ in 0..2 {
        rig.rig.stack.send(&rig.rig.commands, &body, None).await;
    }
    let delivered = rig.rig.queued_commands().await;
    assert_eq!(delivered.len(), 2);
    // The scheduler sends it when due: the handler's clock says so.
    let report = rig
        .handle_at(&delivered, Some(due.parse().expect("a time")))
        .await;
    let results: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| o.result.clone().expect("applied"))
        .collect();
    assert_eq!((results[0].version, results[0].duplicate), (2, false));
    assert!(results[1].duplicate, "the second copy is one command");
    let events = rig.rig.events("timer", "t-1").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].event_type, "Rang");
    assert_eq!(events[1].command_id, "timer#t-1@1/alarm/ring");
    let cleared = &events[1]
        .alarms
        .as_ref()
        .expect("Rang consumes the alarm")
        .cleared;
    assert_eq!(cleared.len(), 1);
    assert_eq!(cleared[0].name, "ring");
    // The event is the alarm's firing: nothing to withdraw (on AWS the
    // schedule fired and deleted itself). Delivered early by hand, the
    // schedule is still there here; were it to fire, the alarm it carries
    // is no longer set: stale.
    let (_, report) = rig.process().await;
    assert!(report.alarms().is_empty(), "{report:?}");
    assert!(rig.schedule(&ring).await.is_some());
    let late = rig.handle(&[body]).await;
    let late = late.outcomes[0].result.clone().expect("acknowledged");
    assert!(late.duplicate, "its command id was applied: {late:?}");
}
