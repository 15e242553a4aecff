//! The command Lambda's wiring (`cmd/command-handler`): its handler built
//! from its environment, the DynamoDB store, the S3 configs and, with
//! `REJECT_TO_DLQ_URL`, the dead-letter queue, all on clients with the
//! `binary-env` timeouts. The binary builds it once per container; tests
//! build the same thing.
//!
//! Before it returns, the table is checked
//! ([`store_dynamodb::check_before_use`]): one `DescribeTable`, which also
//! opens the connection that the first batch then reuses
//! (`WARM_ON_INIT=false` skips it).
//!
//! A wiring crate: the one place the command path's adapters are combined.
//! What it may depend on: the engines, the adapters of the command path
//! and `binary-env`; never the event processor's adapters (Scheduler,
//! EventBridge), so the command Lambda does not link them.
#![forbid(unsafe_code)]

use std::sync::Arc;

use aws_config::ConfigLoader;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use handler_core::{Clock, SystemClock};
use sqs_dlq_sink::SqsDeadLetters;
use store_dynamodb::DynamoStore;

use binary_env::vars::{present, required, warm_on_init};
use binary_env::{Knobs, LambdaEnvError, load_sdk_config};
use config_s3::s3_client;
use store_dynamodb::{TableCheckError, check_before_use};

/// The Lambda's environment, read.
#[derive(Debug, Clone)]
pub struct LambdaEnv {
    /// `DYNAMO_TABLE_NAME`.
    pub table: String,
    /// `S3_BUCKET_NAME`.
    pub bucket: String,
    /// `S3_CONFIG_PREFIX` (default empty).
    pub prefix: String,
    /// `REJECT_TO_DLQ_URL`, when set.
    pub reject_to_dlq: Option<String>,
    /// `WARM_ON_INIT` (default true): check the table at init, which also
    /// opens the connection to DynamoDB before the first batch. `false`
    /// skips both (for measuring what warming saves).
    pub warm_on_init: bool,
    /// The knobs shared with `cmdctl`.
    pub knobs: Knobs,
}

impl LambdaEnv {
    /// Reads the environment through `lookup` (`|name|
    /// std::env::var(name).ok()` in the binary).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaEnvError> {
        let value = |name: &str| present(&lookup, name);
        let required = |name: &'static str| required(&lookup, name);
        Ok(Self {
            table: required("DYNAMO_TABLE_NAME")?,
            bucket: required("S3_BUCKET_NAME")?,
            prefix: value("S3_CONFIG_PREFIX").unwrap_or_default(),
            reject_to_dlq: value("REJECT_TO_DLQ_URL"),
            warm_on_init: warm_on_init(&lookup)?,
            knobs: Knobs::from_lookup(&lookup)?,
        })
    }
}

/// The handler the function runs: clients from `loader` (in the binary
/// `aws_config::defaults(BehaviorVersion::latest())`) with the knobs'
/// timeouts, the store, the configs with their cache time, the handler
/// options, and the dead-letter queue when one is named.
///
/// With [`LambdaEnv::warm_on_init`], the table is checked first
/// ([`check_before_use`]): a missing table or an older layout is the error; a
/// check that could not be made is logged and the handler is returned.
pub async fn lambda_handler(
    env: &LambdaEnv,
    loader: ConfigLoader,
) -> Result<Handler<DynamoStore, S3ConfigSource>, TableCheckError> {
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
    let handler = Handler::new(store, configs)
        .with_options(env.knobs.handler.clone())
        .with_clock(clock.clone());
    Ok(match &env.reject_to_dlq {
        Some(dlq) => handler.with_rejection_sink(Arc::new(SqsDeadLetters::new(
            aws_sdk_sqs::Client::new(&sdk),
            dlq,
            clock,
        ))),
        None => handler,
    })
}

#[cfg(test)]
mod tests {
    use binary_env::KnobError;

    use super::*;

    #[test]
    fn table_and_bucket_are_required_and_knobs_are_checked() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            LambdaEnv::from_lookup(move |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(
            env(&[("S3_BUCKET_NAME", "b")]).unwrap_err(),
            LambdaEnvError::Missing("DYNAMO_TABLE_NAME")
        );
        assert_eq!(
            env(&[("DYNAMO_TABLE_NAME", "t"), ("S3_BUCKET_NAME", "")]).unwrap_err(),
            LambdaEnvError::Missing("S3_BUCKET_NAME")
        );
        assert!(matches!(
            env(&[
                ("DYNAMO_TABLE_NAME", "t"),
                ("S3_BUCKET_NAME", "b"),
                ("HANDLER_CONCURRENCY", "x")
            ]),
            Err(LambdaEnvError::Knob(KnobError {
                name: "HANDLER_CONCURRENCY",
                ..
            }))
        ));
        let ok = env(&[
            ("DYNAMO_TABLE_NAME", "t"),
            ("S3_BUCKET_NAME", "b"),
            ("REJECT_TO_DLQ_URL", ""),
            ("MAX_CONFLICT_ATTEMPTS", "2"),
        ])
        .unwrap();
        assert_eq!((ok.table.as_str(), ok.bucket.as_str()), ("t", "b"));
        assert_eq!(ok.prefix, "");
        assert_eq!(ok.reject_to_dlq, None);
        assert_eq!(ok.knobs.handler.retry.max_attempts, 2);
        assert!(ok.warm_on_init, "warming is on by default");
    }

    #[test]
    fn warm_on_init_is_true_or_false() {
        let env = |warm: &'static str| {
            LambdaEnv::from_lookup(move |name| match name {
                "DYNAMO_TABLE_NAME" | "S3_BUCKET_NAME" => Some("x".to_owned()),
                "WARM_ON_INIT" => Some(warm.to_owned()),
                _ => None,
            })
        };
        assert!(env("").unwrap().warm_on_init);
        assert!(env("true").unwrap().warm_on_init);
        assert!(!env("false").unwrap().warm_on_init);
        let err = env("no").unwrap_err();
        assert_eq!(err, LambdaEnvError::WarmOnInit("no".to_owned()));
        assert!(err.to_string().starts_with("WARM_ON_INIT"), "{err}");
    }
}
