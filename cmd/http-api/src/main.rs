//! The HTTP Lambda (`http-api`, zipped as `bootstrap`) behind a Function
//! URL (`AuthType: AWS_IAM`): the HTTP API's requests in (docs/http-api.md),
//! its answers out. `POST /commands` puts a command on the command queue
//! (202), or with `Prefer: wait` runs it through the command handler in the
//! request (200); the `GET` routes read the event store.
//!
//! It only wires library crates together: the clients and the router are
//! built once at init ([`http_lambda::lambda_router`]), then every request
//! is the router's, as `lambda_http` hands it over.
//!
//! Environment: `DYNAMO_TABLE_NAME`, `S3_BUCKET_NAME`, `S3_CONFIG_PREFIX`
//! (default empty), `COMMAND_QUEUE_URL` (where commands sent without
//! `Prefer: wait` go), `CONFIG_CACHE_SECONDS` (60), `HANDLER_CONCURRENCY`
//! (100), `MAX_CONFLICT_ATTEMPTS` (5), `DEADLINE_MARGIN_MS` (2000),
//! `AWS_CONNECT_TIMEOUT_MS` (3000), `AWS_ATTEMPT_TIMEOUT_MS` (5000),
//! `AWS_OPERATION_TIMEOUT_MS` (15000), `WARM_ON_INIT` (`true`: check the
//! table's layout with `DescribeTable` at init), `RUST_LOG` (`info`); the
//! AWS SDK's own variables unchanged. `http_lambda` reads them; an invalid
//! value fails the init with the variable's name.
#![forbid(unsafe_code)]

use aws_config::BehaviorVersion;
use http_lambda::HttpEnv;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    binary_env::logs::init_json_logs();
    let router = init().await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "init failed");
        e
    })?;
    lambda_http::run(router).await
}

/// Builds the clients and the router once, from the environment, and
/// checks the table: a missing table or an older layout fails the init.
async fn init() -> anyhow::Result<axum::Router> {
    let env = HttpEnv::from_lookup(|name| std::env::var(name).ok())?;
    Ok(http_lambda::lambda_router(&env, aws_config::defaults(BehaviorVersion::latest())).await?)
}
