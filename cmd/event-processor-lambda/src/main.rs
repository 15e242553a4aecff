//! The event processor Lambda (`event-processor`, zipped as `bootstrap`):
//! the table's DynamoDB stream in; events of types whose config says
//! `publish` put on EventBridge, the reactions their transitions' `then`
//! builds sent to the command queue, and the alarms they set delivered (a
//! delayed message on the command queue, or an EventBridge Scheduler
//! schedule; a cleared one's schedule deleted: docs/alarms.md); the
//! `SequenceNumber` of the first record not finished out (docs/reference.md §7).
//!
//! It only wires library crates together: the clients and the processor
//! are built once at init ([`processor_lambda::lambda_processor`]), then every
//! invocation is [`lambda_dynamodb_stream::handle_event`].
//!
//! Environment (docs/reference.md §4 and §7): `DYNAMO_TABLE_NAME` (failure
//! records of reactions that cannot be built), `S3_BUCKET_NAME`,
//! `S3_CONFIG_PREFIX` (default empty), `CONFIG_CACHE_SECONDS` (60),
//! `COMMAND_QUEUE_URL` (reactions and alarms), `EVENT_BUS_NAME` (`default`),
//! `SCHEDULE_GROUP_NAME`, `SCHEDULER_ROLE_ARN`, `COMMAND_QUEUE_ARN`,
//! `SCHEDULE_DLQ_ARN` (the schedules of alarms due later),
//! `AWS_CONNECT_TIMEOUT_MS`, `AWS_ATTEMPT_TIMEOUT_MS`,
//! `AWS_OPERATION_TIMEOUT_MS`, `RUST_LOG` (`info`); the AWS SDK's own
//! variables unchanged. `processor_lambda` reads them; an invalid value fails
//! the init with the variable's name.
#![forbid(unsafe_code)]

use aws_config::BehaviorVersion;
use lambda_runtime::{LambdaEvent, service_fn};
use processor_lambda::{LambdaProcessor, ProcessorEnv};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    binary_env::logs::init_json_logs();
    let processor = init().await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "init failed");
        e
    })?;
    let processor = &processor;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        Ok::<_, lambda_runtime::Error>(lambda_dynamodb_stream::handle_event(processor, event).await)
    }))
    .await
}

/// Builds the clients and the processor once, from the environment.
async fn init() -> anyhow::Result<LambdaProcessor> {
    let env = ProcessorEnv::from_lookup(|name| std::env::var(name).ok())?;
    Ok(
        processor_lambda::lambda_processor(&env, aws_config::defaults(BehaviorVersion::latest()))
            .await,
    )
}
