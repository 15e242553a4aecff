//! The Lambda function (`bootstrap`): SQS batches in, partial batch
//! failures out (docs/reference.md §5).
//!
//! It only wires library crates together: the AWS clients and the handler
//! are built once at init, then every invocation is
//! [`lambda_sqs::handle_event`] over the DynamoDB store and the S3 configs.
//!
//! Environment (docs/reference.md §4):
//! `DYNAMO_TABLE_NAME`, `S3_BUCKET_NAME`, `S3_CONFIG_PREFIX` (default empty),
//! `CONFIG_CACHE_SECONDS` (60), `HANDLER_CONCURRENCY` (100),
//! `MAX_CONFLICT_ATTEMPTS` (5), `DEADLINE_MARGIN_MS` (2000),
//! `AWS_CONNECT_TIMEOUT_MS` (3000), `AWS_ATTEMPT_TIMEOUT_MS` (5000),
//! `AWS_OPERATION_TIMEOUT_MS` (15000),
//! `REJECT_TO_DLQ_URL` (unset: permanent rejections are retried like any
//! failure until the redrive policy moves them), `WARM_ON_INIT` (`true`:
//! check the table's layout with `DescribeTable` at init, which also opens
//! the connection the first batch uses), `RUST_LOG`
//! (`info`); the AWS SDK's own variables (`AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials) unchanged. `command_lambda` reads them; an
//! invalid value fails the init with the variable's name.
#![forbid(unsafe_code)]

use aws_config::BehaviorVersion;
use batch_handler::Handler;
use command_lambda::LambdaEnv;
use config_s3::S3ConfigSource;
use lambda_runtime::{LambdaEvent, service_fn};
use lambda_sqs::SqsEvent;
use store_dynamodb::DynamoStore;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    binary_env::logs::init_json_logs();
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

/// Builds the clients and the handler once, from the environment
/// (`binary-env` reads the knobs for this binary and `cmdctl` alike), and checks
/// the table: a missing table or an older layout fails the init.
async fn init() -> anyhow::Result<Handler<DynamoStore, S3ConfigSource>> {
    let env = LambdaEnv::from_lookup(|name| std::env::var(name).ok())?;
    Ok(
        command_lambda::lambda_handler(&env, aws_config::defaults(BehaviorVersion::latest()))
            .await?,
    )
}
