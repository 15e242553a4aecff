//! The HTTP Lambda's wiring (`cmd/http-api`): the HTTP API's router
//! (`http-api`) built from the function's environment, over the DynamoDB
//! store, the S3 configs and the SQS command queue, all on clients with the
//! `binary-env` timeouts. The binary builds it once per container and hands
//! it to `lambda_http`; tests build the same thing.
//!
//! - `POST /commands` without `Prefer: wait` puts the command on
//!   `COMMAND_QUEUE_URL` ([`sqs_commands::SqsCommandQueue`]: one
//!   `SendMessage`), for the command Lambda to handle;
//! - with `Prefer: wait` it runs through the same [`Handler`] as the
//!   command Lambda's, with the same options (the `binary-env` knobs), in
//!   the request;
//! - the reads (`GET /aggregates/...`, `/traces/...`, `/healthz`) go to the
//!   store and the configs.
//!
//! Before it returns, the table is checked
//! ([`store_dynamodb::check_before_use`], one `DescribeTable`) unless
//! `WARM_ON_INIT=false`, as the command Lambda does.
//!
//! A wiring crate: the one place the HTTP path's adapters are combined.
//! What it may depend on: the engines (`batch-handler`, `http-api`), the
//! adapters of the command path and its queue, and `binary-env`; never the
//! event processor's adapters (Scheduler, EventBridge), and no other wiring
//! crate.
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::ConfigLoader;
use axum::Router;
use batch_handler::Handler;
use binary_env::vars::{present, required, warm_on_init};
use binary_env::{Knobs, LambdaEnvError, load_sdk_config};
use config_s3::{S3ConfigSource, s3_client};
use handler_core::{Clock, SystemClock};
use http_api::{Deadline, HttpApi};
use sqs_commands::SqsCommandQueue;
use store_dynamodb::{DynamoStore, TableCheckError, check_before_use};

/// The HTTP Lambda's environment, read.
#[derive(Debug, Clone)]
pub struct HttpEnv {
    /// `DYNAMO_TABLE_NAME`.
    pub table: String,
    /// `S3_BUCKET_NAME`.
    pub bucket: String,
    /// `S3_CONFIG_PREFIX` (default empty).
    pub prefix: String,
    /// `COMMAND_QUEUE_URL`: where commands sent without `Prefer: wait` go
    /// (the queue the command Lambda reads; FIFO when it ends in `.fifo`).
    pub command_queue_url: String,
    /// `WARM_ON_INIT` (default true): check the table at init, which also
    /// opens the connection to DynamoDB before the first request.
    pub warm_on_init: bool,
    /// The knobs shared with the command Lambda and `cmdctl`.
    pub knobs: Knobs,
}

impl HttpEnv {
    /// Reads the environment through `lookup` (`|name|
    /// std::env::var(name).ok()` in the binary).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaEnvError> {
        let value = |name: &str| present(&lookup, name);
        let required = |name: &'static str| required(&lookup, name);
        Ok(Self {
            table: required("DYNAMO_TABLE_NAME")?,
            bucket: required("S3_BUCKET_NAME")?,
            prefix: value("S3_CONFIG_PREFIX").unwrap_or_default(),
            command_queue_url: required("COMMAND_QUEUE_URL")?,
            warm_on_init: warm_on_init(&lookup)?,
            knobs: Knobs::from_lookup(&lookup)?,
        })
    }
}

/// The handler `Prefer: wait` runs: the command Lambda's, on the same
/// store and configs, with the same options. No rejection sink: a refused
/// command is answered to its caller, never dead-lettered.
pub type HttpHandler = Handler<DynamoStore, S3ConfigSource>;

/// The router the function serves: clients from `loader` (in the binary
/// `aws_config::defaults(BehaviorVersion::latest())`) with the knobs'
/// timeouts, the store, the configs with their cache time, the handler
/// with the knobs' options, and the command queue.
///
/// With [`HttpEnv::warm_on_init`], the table is checked first
/// ([`check_before_use`]): a missing table or an older layout is the error; a
/// check that could not be made is logged and the router is returned.
pub async fn lambda_router(env: &HttpEnv, loader: ConfigLoader) -> Result<Router, TableCheckError> {
    let sdk = load_sdk_config(loader, &env.knobs.timeouts).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &env.table,
        clock.clone(),
    );
    if env.warm_on_init {
        check_before_use(&store).await?;
    }
    let configs = S3ConfigSource::new(s3_client(&sdk), &env.bucket, &env.prefix)
        .with_ttl(env.knobs.config_cache);
    let handler: HttpHandler = Handler::new(store, configs)
        .with_options(env.knobs.handler.clone())
        .with_clock(clock);
    let queue = SqsCommandQueue::new(aws_sdk_sqs::Client::new(&sdk), &env.command_queue_url);
    let router = HttpApi::new(Arc::new(handler))
        .with_queue(Arc::new(queue))
        .router();
    Ok(router.layer(axum::middleware::map_request(with_invocation_deadline)))
}

/// Gives each request the invocation's deadline ([`Deadline`]), read from
/// the Lambda context `lambda_http` puts beside it: a command waited for
/// then stops as a batch does before the function is cut off.
async fn with_invocation_deadline(mut request: axum::extract::Request) -> axum::extract::Request {
    let deadline = request
        .extensions()
        .get::<lambda_http::Context>()
        .map(|context| context.deadline);
    if let Some(deadline) = deadline {
        let deadline = deadline_of(deadline, SystemTime::now(), Instant::now());
        request.extensions_mut().insert(deadline);
    }
    request
}

/// The deadline `deadline_ms` (milliseconds since the epoch, the Lambda
/// context's) as an [`Instant`], from the clocks read now.
fn deadline_of(deadline_ms: u64, now: SystemTime, now_instant: Instant) -> Deadline {
    let now_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Deadline(now_instant + Duration::from_millis(deadline_ms.saturating_sub(now_ms)))
}

#[cfg(test)]
mod tests {
    use binary_env::KnobError;

    use super::*;

    #[test]
    fn the_invocation_deadline_becomes_an_instant_as_far_ahead() {
        let now = UNIX_EPOCH + Duration::from_millis(1_000_000);
        let at = Instant::now();
        assert_eq!(
            deadline_of(1_003_000, now, at),
            Deadline(at + Duration::from_secs(3))
        );
        // A deadline already past is now.
        assert_eq!(deadline_of(999_000, now, at), Deadline(at));
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> Result<HttpEnv, LambdaEnvError> {
        HttpEnv::from_lookup(move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn table_bucket_and_queue_are_required_and_knobs_are_checked() {
        assert_eq!(
            env(&[("S3_BUCKET_NAME", "b"), ("COMMAND_QUEUE_URL", "q")]).unwrap_err(),
            LambdaEnvError::Missing("DYNAMO_TABLE_NAME")
        );
        assert_eq!(
            env(&[("DYNAMO_TABLE_NAME", "t"), ("COMMAND_QUEUE_URL", "q")]).unwrap_err(),
            LambdaEnvError::Missing("S3_BUCKET_NAME")
        );
        assert_eq!(
            env(&[
                ("DYNAMO_TABLE_NAME", "t"),
                ("S3_BUCKET_NAME", "b"),
                ("COMMAND_QUEUE_URL", "")
            ])
            .unwrap_err(),
            LambdaEnvError::Missing("COMMAND_QUEUE_URL")
        );
        assert!(matches!(
            env(&[
                ("DYNAMO_TABLE_NAME", "t"),
                ("S3_BUCKET_NAME", "b"),
                ("COMMAND_QUEUE_URL", "q"),
                ("MAX_CONFLICT_ATTEMPTS", "0")
            ]),
            Err(LambdaEnvError::Knob(KnobError {
                name: "MAX_CONFLICT_ATTEMPTS",
                ..
            }))
        ));
        let ok = env(&[
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("S3_CONFIG_PREFIX", "configs/"),
            (
                "COMMAND_QUEUE_URL",
                "https://sqs.eu-west-1.amazonaws.com/1/c.fifo",
            ),
            ("HANDLER_CONCURRENCY", "7"),
        ])
        .unwrap();
        assert_eq!(
            (ok.table.as_str(), ok.bucket.as_str(), ok.prefix.as_str()),
            ("t", "b", "configs/")
        );
        assert!(ok.command_queue_url.ends_with("c.fifo"));
        assert_eq!(ok.knobs.handler.concurrency, 7);
        assert!(ok.warm_on_init, "warming is on by default");
    }

    #[test]
    fn warm_on_init_is_true_or_false() {
        let base = [
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("COMMAND_QUEUE_URL", "q"),
        ];
        let with = |warm: &'static str| {
            HttpEnv::from_lookup(move |name| match name {
                "WARM_ON_INIT" => Some(warm.to_owned()),
                other => base
                    .iter()
                    .find(|(k, _)| *k == other)
                    .map(|(_, v)| (*v).to_owned()),
            })
        };
        assert!(!with("false").unwrap().warm_on_init);
        assert!(with("true").unwrap().warm_on_init);
        assert_eq!(
            with("maybe").unwrap_err(),
            LambdaEnvError::WarmOnInit("maybe".to_owned())
        );
    }
}
