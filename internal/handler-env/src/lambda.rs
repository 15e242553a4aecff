//! The Lambda function's handler, built from its environment: the DynamoDB
//! store, the S3 configs and, with `REJECT_TO_DLQ_URL`, the dead-letter
//! queue, all on clients with the [`crate::clients`] timeouts. The binary
//! builds it once per container; tests build the same thing.

use std::sync::Arc;

use aws_config::ConfigLoader;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use sqs_dlq_sink::SqsDeadLetters;
use store_dynamodb::DynamoStore;

use crate::clients::{load_sdk_config, s3_client};
use crate::knobs::{KnobError, Knobs};

/// Why the Lambda's environment cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaEnvError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    /// A knob has an invalid value.
    #[error(transparent)]
    Knob(#[from] KnobError),
}

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
    /// The knobs shared with `cmdctl`.
    pub knobs: Knobs,
}

impl LambdaEnv {
    /// Reads the environment through `lookup` (`|name|
    /// std::env::var(name).ok()` in the binary).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, LambdaEnvError> {
        let value = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let required = |name: &'static str| value(name).ok_or(LambdaEnvError::Missing(name));
        Ok(Self {
            table: required("DYNAMO_TABLE_NAME")?,
            bucket: required("S3_BUCKET_NAME")?,
            prefix: value("S3_CONFIG_PREFIX").unwrap_or_default(),
            reject_to_dlq: value("REJECT_TO_DLQ_URL"),
            knobs: Knobs::from_lookup(&lookup)?,
        })
    }
}

/// The handler the function runs: clients from `loader` (in the binary
/// `aws_config::defaults(BehaviorVersion::latest())`) with the knobs'
/// timeouts, the store, the configs with their cache time, the handler
/// options, and the dead-letter queue when one is named.
pub async fn lambda_handler(
    env: &LambdaEnv,
    loader: ConfigLoader,
) -> Handler<DynamoStore, S3ConfigSource> {
    let sdk = load_sdk_config(loader, &env.knobs.timeouts).await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &env.table);
    let configs = S3ConfigSource::new(s3_client(&sdk), &env.bucket, &env.prefix)
        .with_ttl(env.knobs.config_cache);
    let handler = Handler::new(store, configs).with_options(env.knobs.handler.clone());
    match &env.reject_to_dlq {
        Some(dlq) => handler.with_rejection_sink(Arc::new(SqsDeadLetters::new(
            aws_sdk_sqs::Client::new(&sdk),
            dlq,
        ))),
        None => handler,
    }
}

#[cfg(test)]
mod tests {
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
    }
}
