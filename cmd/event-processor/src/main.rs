//! The event processor Lambda (`event-processor`, zipped as `bootstrap`):
//! the table's DynamoDB stream in; events of types whose config says
//! `publish` put on EventBridge, and the reactions their transitions' `then`
//! builds sent to the command queue; the `SequenceNumber` of the first
//! record not finished out (docs/reference.md §8).
//!
//! It only wires library crates together: the clients and the processor
//! are built once at init ([`handler_env::lambda_processor`]), then every
//! invocation is [`lambda_dynamodb_stream::handle_event`].
//!
//! Environment (docs/reference.md §4 and §8): `DYNAMO_TABLE_NAME` (failure
//! records of reactions that cannot be built), `S3_BUCKET_NAME`,
//! `S3_CONFIG_PREFIX` (default empty), `CONFIG_CACHE_SECONDS` (60),
//! `COMMAND_QUEUE_URL` (reactions), `EVENT_BUS_NAME` (`default`),
//! `AWS_CONNECT_TIMEOUT_MS`, `AWS_ATTEMPT_TIMEOUT_MS`,
//! `AWS_OPERATION_TIMEOUT_MS`, `RUST_LOG` (`info`); the AWS SDK's own
//! variables unchanged. `handler_env` reads them; an invalid value fails
//! the init with the variable's name.
#![forbid(unsafe_code)]

use aws_config::BehaviorVersion;
use handler_env::{LambdaProcessor, ProcessorEnv};
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::Value;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
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
    Ok(handler_env::lambda_processor(&env, aws_config::defaults(BehaviorVersion::latest())).await)
}

fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .init();
}
