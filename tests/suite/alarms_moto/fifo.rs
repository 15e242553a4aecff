//! A FIFO command queue on moto: it takes no per-message delay, so an alarm
//! already due is sent at once in its aggregate's message group, and any
//! future one, however near, is a schedule whose target carries that group.

use std::sync::Arc;

use alarm_scheduler::{ScheduleSettings, SdkSchedules, Setting};
use aws_sdk_sqs::types::{MessageSystemAttributeName as A, QueueAttributeName as Q};
use event_processor::{AlarmDone, AlarmOrder, AlarmSink};
use handler_core::state_machine::ids::schedule_name;
use handler_core::state_machine::{Alarm, Timestamp, alarm_command};
use handler_core::{AggregateKey, FixedClock};
use processor_lambda::SchedulingSink;
use serde_json::Value;
use sqs_commands::sink::SqsCommandSink;
use testkit::aws::AwsStack;
use testkit::moto::unique_name;

use super::rig::ROLE_ARN;

fn arm(id: &str, due: &str) -> AlarmOrder {
    let alarm = Alarm {
        name: "ring".into(),
        due: due.parse().unwrap(),
        version: 1,
        command: "Ring".into(),
        payload: Default::default(),
        correlation_id: None,
        hops: 0,
    };
    AlarmOrder::Arm {
        key: AggregateKey::new("timer", id),
        command: alarm_command("timer", id, &alarm),
        alarm,
    }
}

#[tokio::test]
async fn on_a_fifo_queue_a_due_alarm_is_sent_and_a_near_one_scheduled_in_its_group() {
    let stack = AwsStack::new().await;
    let (queue, _) = stack.queues(30, true).await;
    // The scheduler takes no FIFO queue as a target's dead-letter queue.
    let (_, standard_dlq) = stack.queues(30, false).await;
    let arn = |url: String| {
        let stack = stack.clone();
        async move {
            stack
                .queue_attribute(&url, Q::QueueArn)
                .await
                .expect("an ARN")
        }
    };
    let scheduler = aws_sdk_scheduler::Client::new(&stack.sdk);
    let group = unique_name("alarms");
    scheduler
        .create_schedule_group()
        .name(&group)
        .send()
        .await
        .expect("CreateScheduleGroup");
    let setting = |variable, value: String| Setting::new(variable, Some(value));
    let settings = ScheduleSettings {
        group: setting("SCHEDULE_GROUP_NAME", group.clone()),
        role_arn: setting("SCHEDULER_ROLE_ARN", ROLE_ARN.to_owned()),
        queue_arn: setting("COMMAND_QUEUE_ARN", arn(queue.clone()).await),
        dlq_arn: setting("SCHEDULE_DLQ_ARN", arn(standard_dlq).await),
    };
    let now: Timestamp = "2026-11-30T12:00:00Z".parse().unwrap();
    let sink = SchedulingSink::new(
        SqsCommandSink::new(stack.sqs().clone(), &queue),
        SdkSchedules::new(scheduler.clone()),
        settings,
    )
    .with_clock(Arc::new(FixedClock(now)));

    let results = sink
        .apply(&[
            arm("t-1", "2026-11-30T11:59:00Z"),
            arm("t-2", "2026-11-30T12:00:30Z"),
        ])
        .await;
    assert_eq!(
        results,
        [
            Ok(AlarmDone::Queued { delay_seconds: 0 }),
            Ok(AlarmDone::Scheduled)
        ]
    );

    let got = stack
        .sqs()
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .message_system_attribute_names(A::MessageGroupId)
        .send()
        .await
        .expect("ReceiveMessage");
    let [message] = got.messages() else {
        panic!("one message: {got:?}")
    };
    let body: Value = serde_json::from_str(message.body().unwrap_or_default()).unwrap();
    assert_eq!(body["commandId"], "timer#t-1@1/alarm/ring");
    assert_eq!(
        message
            .attributes()
            .and_then(|a| a.get(&A::MessageGroupId))
            .map(String::as_str),
        Some("timer#t-1")
    );

    let schedule = scheduler
        .get_schedule()
        .group_name(&group)
        .name(schedule_name("timer#t-2", "ring", 1))
        .send()
        .await
        .expect("GetSchedule");
    assert_eq!(
        schedule.schedule_expression(),
        Some("at(2026-11-30T12:00:30)")
    );
    assert_eq!(
        schedule
            .target()
            .and_then(|t| t.sqs_parameters())
            .and_then(|p| p.message_group_id()),
        Some("timer#t-2")
    );
}
