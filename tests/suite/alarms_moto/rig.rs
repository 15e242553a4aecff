//! One alarm test's rig on moto: the processor rig (table and stream,
//! configs, command queue with its DLQ) with the `timer` fixture
//! (`tests/fixtures/alarms/timer.json`), a schedule group, and the
//! processor's alarm sink on counting clients.

use std::collections::BTreeSet;
use std::time::Duration;

use alarm_scheduler::{ScheduleSettings, SdkSchedules, Setting};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_sqs::types::QueueAttributeName as Q;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use event_processor::{AlarmCounts, ProcessReport};
use eventbridge_publisher::SdkPutEvents;
use handler_core::BatchReport;
use handler_core::state_machine::{SignedDuration, Timestamp};
use lambda_dynamodb_stream::records::source_records;
use processor_lambda::SchedulingSink;
use serde_json::{Value, json};
use store_dynamodb::DynamoStore;
use testkit::aws::PREFIX;
use testkit::moto::unique_name;
use testkit::progress::Progress;
use testkit::requests::RequestCounter;
use testkit::stream::StreamReader;

use crate::processor::harness::{Processor, Rig};

/// The role the schedules name (moto does not assume it).
pub(crate) const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/scheduler";

/// The processor with the AWS alarm sink.
pub(crate) type AlarmProcessor = Processor<SdkPutEvents>;

pub(crate) struct AlarmRig {
    pub(crate) rig: Rig,
    /// The schedule group.
    pub(crate) group: String,
    /// What the schedules are made with.
    pub(crate) settings: ScheduleSettings,
    /// The command queue's ARN (the schedules' target).
    pub(crate) queue_arn: String,
    /// The command DLQ's ARN (the schedules' target's DLQ).
    pub(crate) dlq_arn: String,
    /// Scheduler requests of the alarm sink.
    pub(crate) scheduler_requests: RequestCounter,
    scheduler: aws_sdk_scheduler::Client,
}

impl AlarmRig {
    pub(crate) async fn new() -> Self {
        let rig = Rig::new().await;
        let bytes =
            std::fs::read(testkit::fixtures::path("alarms/timer.json")).expect("the timer fixture");
        config_s3::upload_config(
            rig.stack.s3(),
            &rig.stack.bucket,
            PREFIX,
            &bytes,
            Some("timer"),
        )
        .await
        .expect("upload the timer fixture");
        let scheduler_requests = RequestCounter::default();
        let scheduler = aws_sdk_scheduler::Client::from_conf(
            aws_sdk_scheduler::config::Builder::from(&rig.stack.sdk)
                .interceptor(scheduler_requests.clone())
                .build(),
        );
        let group = unique_name("alarms");
        scheduler
            .create_schedule_group()
            .name(&group)
            .send()
            .await
            .expect("CreateScheduleGroup");
        let queue_arn = rig
            .stack
            .queue_attribute(&rig.commands, Q::QueueArn)
            .await
            .expect("the queue's ARN");
        let dlq_arn = rig
            .stack
            .queue_attribute(&rig.dlq, Q::QueueArn)
            .await
            .expect("the DLQ's ARN");
        let setting = |variable, value: &str| Setting::new(variable, Some(value.to_owned()));
        let settings = ScheduleSettings {
            group: setting("SCHEDULE_GROUP_NAME", &group),
            role_arn: setting("SCHEDULER_ROLE_ARN", ROLE_ARN),
            queue_arn: setting("COMMAND_QUEUE_ARN", &queue_arn),
            dlq_arn: setting("SCHEDULE_DLQ_ARN", &dlq_arn),
        };
        scheduler_requests.reset();
        Self {
            rig,
            group,
            settings,
            queue_arn,
            dlq_arn,
            scheduler_requests,
            scheduler,
        }
    }

    /// The processor the Lambda runs: the rig's, with the alarm sink on the
    /// command queue (the reactions' counting sink) and the scheduler.
    pub(crate) fn processor(&self) -> AlarmProcessor {
        let sink = SchedulingSink::new(
            self.rig.command_sink(),
            SdkSchedules::new(self.scheduler.clone()),
            self.settings.clone(),
        );
        self.rig.processor(self.rig.put_events()).with_alarms(sink)
    }

    /// Reads the stream's new records and hands them to the processor.
    pub(crate) async fn process(&mut self) -> (Vec<Value>, ProcessReport) {
        let records = self.rig.stream.read().await;
        let report = self.process_records(&records).await;
        (records, report)
    }

    /// Hands these stream records to the processor (again, for a retry).
    pub(crate) async fn process_records(&self, records: &[Value]) -> ProcessReport {
        let report = self
            .processor()
            .process(source_records(&StreamReader::event(records)).expect("a stream event"))
            .await;
        assert!(report.all_finished(), "{report:?}");
        report
    }

    /// Runs the loop the two Lambdas make until it is quiet: the stream's
    /// new records to the processor, the command queue's visible messages
    /// to the handler, again, until no record and no visible message is
    /// left (delayed ones stay where they are). Returns what became of the
    /// alarms on the way.
    pub(crate) async fn drive(&mut self) -> AlarmCounts {
        self.drive_at(None).await
    }

    /// [`drive`](Self::drive) with the handler's clock set to `now`.
    pub(crate) async fn drive_at(&mut self, now: Option<Timestamp>) -> AlarmCounts {
        let mut alarms = AlarmCounts::default();
        // A round limit, not a time limit: a saga longer than this is a loop.
        for _ in 0..64 {
            let (records, report) = self.process().await;
            alarms = alarms + report.alarms();
            let commands = self.rig.queued_commands().await;
            if records.is_empty() && commands.is_empty() {
                return alarms;
            }
            if !commands.is_empty() {
                let applied = self.rig.apply_at(&commands, now).await;
                assert!(applied.batch_item_failures.is_empty(), "{applied:?}");
            }
        }
        panic!("the loop did not come to rest in 64 rounds");
    }

    /// The handler's report for these command bodies, as one Lambda batch.
    pub(crate) async fn handle(&self, bodies: &[Value]) -> BatchReport {
        self.handle_at(bodies, None).await
    }

    /// [`handle`](Self::handle) with the handler's clock set to `now` (a
    /// fired alarm's command delivered by hand comes when it is due).
    pub(crate) async fn handle_at(&self, bodies: &[Value], now: Option<Timestamp>) -> BatchReport {
        let event = crate::processor::harness::sqs_event(bodies);
        let mut handler: Handler<DynamoStore, S3ConfigSource> = self.rig.stack.handler();
        if let Some(now) = now {
            handler = handler.with_clock(std::sync::Arc::new(handler_core::ShiftedClock::to(now)));
        }
        handler.handle(lambda_sqs::to_batch(&event)).await
    }

    /// The schedule `name` of the group, or `None` when there is none.
    pub(crate) async fn schedule(&self, name: &str) -> Option<GetScheduleOutput> {
        match self
            .scheduler
            .get_schedule()
            .group_name(&self.group)
            .name(name)
            .send()
            .await
        {
            Ok(found) => Some(found),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => panic!("GetSchedule: {}", sdk_error::describe(&e)),
        }
    }

    /// The names of the group's schedules.
    pub(crate) async fn schedule_names(&self) -> BTreeSet<String> {
        self.scheduler
            .list_schedules()
            .group_name(&self.group)
            .send()
            .await
            .expect("ListSchedules")
            .schedules()
            .iter()
            .filter_map(|s| s.name().map(str::to_owned))
            .collect()
    }

    /// The command queue's messages once `count` of them are visible,
    /// deleted; waits while the delayed ones come due, failing only after
    /// a minute in which the queue's counts did not move.
    pub(crate) async fn delivered(&self, count: usize) -> Vec<Value> {
        let mut got = Vec::new();
        let mut progress = Progress::new(Duration::from_secs(60));
        while got.len() < count {
            got.extend(self.rig.queued_commands().await);
            let delayed = self.delayed().await;
            progress
                .check((got.len(), delayed))
                .unwrap_or_else(|stalled| {
                    panic!(
                        "{count} alarms expected on the queue, {}: {stalled}",
                        got.len()
                    )
                });
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        got
    }

    /// `ApproximateNumberOfMessagesDelayed` of the command queue.
    pub(crate) async fn delayed(&self) -> u64 {
        self.rig
            .stack
            .queue_attribute(&self.rig.commands, Q::ApproximateNumberOfMessagesDelayed)
            .await
            .and_then(|n| n.parse().ok())
            .expect("ApproximateNumberOfMessagesDelayed")
    }
}

/// `Start` of timer `id`, its alarm `ring` due at `at`.
pub(crate) fn start(id: &str, at: &str) -> Value {
    timer(id, "Start", json!({ "at": at }))
}

/// A command to timer `id`.
pub(crate) fn timer(id: &str, command: &str, payload: Value) -> Value {
    json!({"commandId": format!("{id}-{command}"), "aggregateType": "timer",
           "aggregateId": id, "command": command, "payload": payload})
}

/// RFC 3339, whole seconds, `seconds` from now (rounded up).
pub(crate) fn from_now(seconds: i64) -> String {
    let now = Timestamp::now();
    let then = now
        .checked_add(SignedDuration::from_secs(seconds + 1))
        .expect("a time");
    Timestamp::from_second(then.as_second())
        .expect("a time")
        .to_string()
}
