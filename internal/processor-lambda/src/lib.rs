//! The event processor Lambda's wiring (`cmd/event-processor-lambda`), built from
//! its environment (docs/reference.md §7): the S3 configs, EventBridge
//! publication, the command queue for reactions and alarms, the scheduler
//! for alarms due later ([`SchedulingSink`], which combines the two), and
//! the table for the failure records of reactions that cannot be built, all
//! on clients with the `binary-env` timeouts. The binary builds it once per
//! container; tests build the same thing.
//!
//! A wiring crate: the one place the event path's adapters are combined.
//! What it may depend on: the engines, the adapters of the event path and
//! `binary-env`; never the command Lambda's wiring.
#![forbid(unsafe_code)]

pub mod alarm_sink;

pub use alarm_sink::{MAX_CONCURRENT_CALLS, SchedulingSink};

use std::sync::Arc;

use alarm_scheduler::{ScheduleSettings, SdkSchedules, Setting};
use aws_config::ConfigLoader;
use binary_env::vars::{present, required};
use binary_env::{Knobs, LambdaEnvError, load_sdk_config};
use config_s3::{S3ConfigSource, s3_client};
use event_processor::EventProcessor;
use eventbridge_publisher::{EventBridgePublisher, SdkPutEvents};
use handler_core::{Clock, SystemClock};
use sqs_commands::sink::SqsCommandSink;
use store_dynamodb::DynamoStore;

/// The bus published to when `EVENT_BUS_NAME` is unset.
pub const DEFAULT_EVENT_BUS: &str = "default";

/// The processor the function runs.
pub type LambdaProcessor =
    EventProcessor<S3ConfigSource, EventBridgePublisher<SdkPutEvents>, SqsCommandSink, DynamoStore>;

/// The event processor's environment, read.
#[derive(Debug, Clone)]
pub struct ProcessorEnv {
    /// `DYNAMO_TABLE_NAME`: where failure records go.
    pub table: String,
    /// `S3_BUCKET_NAME`.
    pub bucket: String,
    /// `S3_CONFIG_PREFIX` (default empty).
    pub prefix: String,
    /// `COMMAND_QUEUE_URL`: where reactions go.
    pub command_queue: String,
    /// `EVENT_BUS_NAME` (default [`DEFAULT_EVENT_BUS`]).
    pub event_bus: String,
    /// What schedules of alarms are made with: `SCHEDULE_GROUP_NAME`,
    /// `SCHEDULER_ROLE_ARN`, `COMMAND_QUEUE_ARN`, `SCHEDULE_DLQ_ARN`. Each
    /// optional: without them, an alarm that needs a schedule fails its
    /// event with a reason naming the missing variable.
    pub schedules: ScheduleSettings,
    /// The knobs shared with the handler (`CONFIG_CACHE_SECONDS` and the
    /// clients' timeouts are the ones the processor uses).
    pub knobs: Knobs,
}

impl ProcessorEnv {
    /// Reads the environment through `lookup` (`|name|
    /// std::env::var(name).ok()` in the binary).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaEnvError> {
        let value = |name: &str| present(&lookup, name);
        let required = |name: &'static str| required(&lookup, name);
        Ok(Self {
            table: required("DYNAMO_TABLE_NAME")?,
            bucket: required("S3_BUCKET_NAME")?,
            prefix: value("S3_CONFIG_PREFIX").unwrap_or_default(),
            command_queue: required("COMMAND_QUEUE_URL")?,
            event_bus: value("EVENT_BUS_NAME").unwrap_or_else(|| DEFAULT_EVENT_BUS.to_owned()),
            schedules: ScheduleSettings {
                group: Setting::new("SCHEDULE_GROUP_NAME", value("SCHEDULE_GROUP_NAME")),
                role_arn: Setting::new("SCHEDULER_ROLE_ARN", value("SCHEDULER_ROLE_ARN")),
                queue_arn: Setting::new("COMMAND_QUEUE_ARN", value("COMMAND_QUEUE_ARN")),
                dlq_arn: Setting::new("SCHEDULE_DLQ_ARN", value("SCHEDULE_DLQ_ARN")),
            },
            knobs: Knobs::from_lookup(&lookup)?,
        })
    }
}

/// The processor the function runs: clients from `loader` (in the binary
/// `aws_config::defaults(BehaviorVersion::latest())`) with the knobs'
/// timeouts; its alarms through a [`SchedulingSink`] on the command queue
/// and the scheduler. Nothing is called at init; missing schedule settings
/// are logged once as a warning.
pub async fn lambda_processor(env: &ProcessorEnv, loader: ConfigLoader) -> LambdaProcessor {
    let sdk = load_sdk_config(loader, &env.knobs.timeouts).await;
    let configs = S3ConfigSource::new(s3_client(&sdk), &env.bucket, &env.prefix)
        .with_ttl(env.knobs.config_cache);
    let publisher = EventBridgePublisher::new(SdkPutEvents::new(
        aws_sdk_eventbridge::Client::new(&sdk),
        &env.event_bus,
    ));
    let sink = SqsCommandSink::new(aws_sdk_sqs::Client::new(&sdk), &env.command_queue);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let failures = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &env.table,
        clock.clone(),
    );
    let missing = env.schedules.missing();
    if !missing.is_empty() {
        tracing::warn!(
            missing = missing.join(", "),
            "alarms due in more than 15 minutes (any not yet due on a FIFO queue) cannot be scheduled: their events will not finish"
        );
    }
    let alarms = SchedulingSink::new(
        sink.clone(),
        SdkSchedules::new(aws_sdk_scheduler::Client::new(&sdk)),
        env.schedules.clone(),
    );
    EventProcessor::new(configs, publisher, sink, failures, clock)
        .with_alarms(alarms)
        .with_deadline_margin(env.knobs.handler.deadline_margin)
}

/// The sinks the processor sends reactions and alarm orders through, on
/// `sdk`'s clients: the command queue at `command_queue`, and the
/// scheduler with `schedules` for alarms due later. `cmdctl resend` sends
/// an event's reactions and alarm orders again through the same sinks.
pub fn delivery_sinks(
    sdk: &aws_config::SdkConfig,
    command_queue: &str,
    schedules: ScheduleSettings,
) -> (SqsCommandSink, SchedulingSink<SdkSchedules>) {
    let sink = SqsCommandSink::new(aws_sdk_sqs::Client::new(sdk), command_queue);
    let alarms = SchedulingSink::new(
        sink.clone(),
        SdkSchedules::new(aws_sdk_scheduler::Client::new(sdk)),
        schedules,
    );
    (sink, alarms)
}

/// The schedule settings read through `lookup` (`SCHEDULE_GROUP_NAME`,
/// `SCHEDULER_ROLE_ARN`, `COMMAND_QUEUE_ARN`, `SCHEDULE_DLQ_ARN`; each
/// optional).
pub fn schedule_settings(lookup: impl Fn(&str) -> Option<String>) -> ScheduleSettings {
    let value = |name: &str| present(&lookup, name);
    ScheduleSettings {
        group: Setting::new("SCHEDULE_GROUP_NAME", value("SCHEDULE_GROUP_NAME")),
        role_arn: Setting::new("SCHEDULER_ROLE_ARN", value("SCHEDULER_ROLE_ARN")),
        queue_arn: Setting::new("COMMAND_QUEUE_ARN", value("COMMAND_QUEUE_ARN")),
        dlq_arn: Setting::new("SCHEDULE_DLQ_ARN", value("SCHEDULE_DLQ_ARN")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_required_and_the_bus_defaults_to_default() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            ProcessorEnv::from_lookup(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(
            env(&[("DYNAMO_TABLE_NAME", "t"), ("S3_BUCKET_NAME", "b")]).unwrap_err(),
            LambdaEnvError::Missing("COMMAND_QUEUE_URL")
        );
        let ok = env(&[
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("COMMAND_QUEUE_URL", "https://q"),
            ("EVENT_BUS_NAME", ""),
        ])
        .unwrap();
        assert_eq!(ok.event_bus, "default");
        assert_eq!(ok.command_queue, "https://q");
        let bus = env(&[
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("COMMAND_QUEUE_URL", "https://q"),
            ("EVENT_BUS_NAME", "orders"),
            ("S3_CONFIG_PREFIX", "configs/"),
        ])
        .unwrap();
        assert_eq!(
            (bus.event_bus.as_str(), bus.prefix.as_str()),
            ("orders", "configs/")
        );
        // No schedule settings: every one is named as missing.
        assert_eq!(
            ok.schedules.missing(),
            [
                "SCHEDULE_GROUP_NAME",
                "SCHEDULER_ROLE_ARN",
                "COMMAND_QUEUE_ARN",
                "SCHEDULE_DLQ_ARN"
            ]
        );
        let scheduled = env(&[
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("COMMAND_QUEUE_URL", "https://q"),
            ("SCHEDULE_GROUP_NAME", "stack-alarms"),
            ("SCHEDULER_ROLE_ARN", "arn:aws:iam::1:role/r"),
            ("COMMAND_QUEUE_ARN", "arn:aws:sqs:us-east-1:1:q"),
            ("SCHEDULE_DLQ_ARN", ""),
        ])
        .unwrap();
        assert_eq!(scheduled.schedules.missing(), ["SCHEDULE_DLQ_ARN"]);
        assert_eq!(
            scheduled.schedules.target().unwrap_err(),
            "SCHEDULE_DLQ_ARN",
            "an empty value is unset"
        );
    }
}
