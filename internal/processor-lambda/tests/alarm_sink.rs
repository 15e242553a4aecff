//! The sink over a fake scheduler (no queued alarms, so no SQS call):
//! creations before deletions, a schedule already there and one already
//! gone are done, a failed call fails only its own order.

use std::sync::{Arc, Mutex};

use alarm_scheduler::{Created, Deleted, Schedule, ScheduleApi, ScheduleSettings, Setting};
use async_trait::async_trait;
use aws_sdk_sqs::config::{BehaviorVersion, Region};
use event_processor::{AlarmDone, AlarmOrder, AlarmSink};
use handler_core::state_machine::ids::schedule_name;
use handler_core::state_machine::{Alarm, alarm_command};
use handler_core::{AggregateKey, FixedClock};
use processor_lambda::SchedulingSink;
use sqs_commands::sink::SqsCommandSink;

/// Records its calls; answers by name what it is told to.
#[derive(Default)]
struct FakeScheduler {
    calls: Mutex<Vec<String>>,
    /// Names already there (create answers AlreadyThere) ...
    existing: Mutex<Vec<String>>,
    /// ... and names whose calls fail.
    failing: Mutex<Vec<String>>,
}

#[async_trait]
impl ScheduleApi for FakeScheduler {
    async fn create(&self, schedule: &Schedule) -> Result<Created, String> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("create {}", schedule.name));
        if self.failing.lock().unwrap().contains(&schedule.name) {
            return Err("ThrottlingException: slow down".into());
        }
        let mut existing = self.existing.lock().unwrap();
        if existing.contains(&schedule.name) {
            return Ok(Created::AlreadyThere);
        }
        existing.push(schedule.name.clone());
        Ok(Created::New)
    }

    async fn delete(&self, _group: &str, name: &str) -> Result<Deleted, String> {
        self.calls.lock().unwrap().push(format!("delete {name}"));
        let mut existing = self.existing.lock().unwrap();
        let before = existing.len();
        existing.retain(|n| n != name);
        Ok(if existing.len() < before {
            Deleted::Gone
        } else {
            Deleted::NotThere
        })
    }
}

fn settings() -> ScheduleSettings {
    let set = |variable, value: &str| Setting::new(variable, Some(value.to_owned()));
    ScheduleSettings {
        group: set("SCHEDULE_GROUP_NAME", "g"),
        role_arn: set("SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/r"),
        queue_arn: set("COMMAND_QUEUE_ARN", "arn:aws:sqs:us-east-1:1:q"),
        dlq_arn: set("SCHEDULE_DLQ_ARN", "arn:aws:sqs:us-east-1:1:q-dlq"),
    }
}

fn alarm(name: &str, version: u64) -> Alarm {
    Alarm {
        name: name.into(),
        due: "2027-01-01T00:00:00Z".parse().unwrap(),
        version,
        command: "Expire".into(),
        payload: Default::default(),
        correlation_id: None,
        hops: 0,
    }
}

fn key() -> AggregateKey {
    AggregateKey::new("order", "o-1")
}

fn arm(name: &str, version: u64) -> AlarmOrder {
    let alarm = alarm(name, version);
    AlarmOrder::Arm {
        key: key(),
        command: alarm_command("order", "o-1", &alarm),
        alarm,
    }
}

fn disarm(name: &str, version: u64) -> AlarmOrder {
    AlarmOrder::Disarm {
        key: key(),
        alarm: alarm(name, version),
    }
}

fn sink() -> SchedulingSink<Arc<FakeScheduler>> {
    // A client that is never called: no order here is queued.
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let queue = SqsCommandSink::new(
        aws_sdk_sqs::Client::from_conf(config),
        "https://sqs.us-east-1.amazonaws.com/1/q",
    );
    SchedulingSink::new(queue, Arc::new(FakeScheduler::default()), settings()).with_clock(Arc::new(
        FixedClock("2026-11-30T12:00:00Z".parse().unwrap()),
    ))
}

#[tokio::test]
async fn an_alarm_set_and_cleared_in_one_batch_is_created_then_deleted() {
    let sink = sink();
    // Even given the clear first, the creation runs first.
    let results = sink
        .apply(&[disarm("reminder", 1), arm("reminder", 1)])
        .await;
    assert_eq!(
        results,
        [Ok(AlarmDone::Unscheduled), Ok(AlarmDone::Scheduled)]
    );
    let name = schedule_name("order#o-1", "reminder", 1);
    assert_eq!(
        *sink.api().calls.lock().unwrap(),
        [format!("create {name}"), format!("delete {name}")],
        "creations first"
    );
    assert!(sink.api().existing.lock().unwrap().is_empty());
}

#[tokio::test]
async fn retries_are_done_and_a_failed_call_fails_its_order_only() {
    let sink = sink();
    let first = sink.apply(&[arm("expiry", 1)]).await;
    assert_eq!(first, [Ok(AlarmDone::Scheduled)]);
    // The stream retries the batch: the schedule is there (ConflictException).
    let again = sink.apply(&[arm("expiry", 1)]).await;
    assert_eq!(again, [Ok(AlarmDone::Scheduled)]);
    assert_eq!(sink.api().existing.lock().unwrap().len(), 1);
    // A deletion of a schedule that is not there is done.
    assert_eq!(
        sink.apply(&[disarm("never", 1)]).await,
        [Ok(AlarmDone::Unscheduled)]
    );
    sink.api()
        .failing
        .lock()
        .unwrap()
        .push(schedule_name("order#o-1", "b", 2));
    let mixed = sink.apply(&[arm("a", 2), arm("b", 2)]).await;
    assert_eq!(mixed[0], Ok(AlarmDone::Scheduled));
    assert_eq!(
        mixed[1].as_ref().unwrap_err().to_string(),
        "ThrottlingException: slow down"
    );
}

#[tokio::test]
async fn without_settings_a_later_alarm_fails_naming_the_variable() {
    let mut unset = settings();
    unset.role_arn = Setting::new("SCHEDULER_ROLE_ARN", None);
    let queue = SqsCommandSink::new(
        aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .build(),
        ),
        "https://sqs.us-east-1.amazonaws.com/1/q",
    );
    let sink = SchedulingSink::new(queue, Arc::new(FakeScheduler::default()), unset);
    let results = sink.apply(&[arm("expiry", 1)]).await;
    let reason = results[0].as_ref().unwrap_err().to_string();
    assert!(reason.contains("SCHEDULER_ROLE_ARN is not set"), "{reason}");
    assert!(sink.api().calls.lock().unwrap().is_empty());
}
