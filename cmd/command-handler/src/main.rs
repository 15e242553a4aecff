//! The Lambda function (`bootstrap`): SQS batches in, partial batch
//! failures out (CONTRACT §5).
//!
//! It only wires library crates together: the AWS clients and the handler
//! are built once at init, then every invocation is
//! [`lambda_sqs::handle_event`] over the DynamoDB store and the S3 configs.
//!
//! Environment (CONTRACT §1 and the knobs of the README):
//! `DYNAMO_TABLE_NAME`, `S3_BUCKET_NAME`, `S3_CONFIG_PREFIX` (default empty),
//! `CONFIG_CACHE_SECONDS` (60), `HANDLER_CONCURRENCY` (16),
//! `MAX_CONFLICT_ATTEMPTS` (5), `DEADLINE_MARGIN_MS` (2000),
//! `REJECT_TO_DLQ_URL` (unset: permanent rejections are retried like any
//! failure until the redrive policy moves them), `RUST_LOG`
//! (`info`); the AWS SDK's own variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials) unchanged.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use aws_config::BehaviorVersion;
use config_s3::S3ConfigSource;
use handler_core::{Handler, HandlerOptions};
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_sqs::SqsEvent;
use sqs_dead_letter::SqsDeadLetters;
use store_dynamodb::DynamoStore;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    init_logging();
    let handler = init().await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "init failed");
        e
    })?;
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(lambda_sqs::handle_event(handler, event).await)
    }))
    .await
}

/// Builds the clients and the handler once, from the environment.
async fn init() -> anyhow::Result<Handler<DynamoStore, S3ConfigSource>> {
    let table = required("DYNAMO_TABLE_NAME")?;
    let bucket = required("S3_BUCKET_NAME")?;
    let prefix = std::env::var("S3_CONFIG_PREFIX").unwrap_or_default();
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;

    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let configs = S3ConfigSource::new(aws_sdk_s3::Client::new(&sdk), bucket, prefix)
        .with_ttl(Duration::from_secs(number("CONFIG_CACHE_SECONDS", 60)?));
    let defaults = HandlerOptions::default();
    let options = HandlerOptions {
        concurrency: number("HANDLER_CONCURRENCY", defaults.concurrency as u64)? as usize,
        max_attempts: number("MAX_CONFLICT_ATTEMPTS", u64::from(defaults.max_attempts))? as u32,
        deadline_margin: Duration::from_millis(number(
            "DEADLINE_MARGIN_MS",
            defaults.deadline_margin.as_millis() as u64,
        )?),
        ..defaults
    };
    let handler = Handler::new(store, configs).with_options(options);
    Ok(match std::env::var("REJECT_TO_DLQ_URL") {
        Ok(dlq) if !dlq.is_empty() => handler.with_rejection_sink(Arc::new(SqsDeadLetters::new(
            aws_sdk_sqs::Client::new(&sdk),
            dlq,
        ))),
        _ => handler,
    })
}

fn required(name: &str) -> anyhow::Result<String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .with_context(|| format!("environment variable {name} must be set"))
}

fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => v
            .parse()
            .with_context(|| format!("{name}={v:?} is not a whole number")),
        _ => Ok(default),
    }
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
