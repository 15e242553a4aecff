//! What the Lambdas (`cmd/command-handler`, `cmd/event-processor`) and
//! `cmdctl` read from the environment, read in one place so that the
//! binaries behave alike:
//!
//! - [`knobs`]: `HANDLER_CONCURRENCY`, `MAX_CONFLICT_ATTEMPTS`,
//!   `CONFIG_CACHE_SECONDS`, `DEADLINE_MARGIN_MS` and the AWS clients'
//!   timeouts (`AWS_CONNECT_TIMEOUT_MS`, `AWS_ATTEMPT_TIMEOUT_MS`,
//!   `AWS_OPERATION_TIMEOUT_MS`), parsed by one pure function over a lookup;
//! - [`clients`]: the SDK config with those timeouts on every client (the
//!   SDK's own defaults give only a connect timeout, so a server that
//!   accepts a request and never answers would hold a call forever), and
//!   the S3 client addressed path-style behind an endpoint override;
//! - [`lambda`]: the Lambda's handler over DynamoDB and S3, built from the
//!   environment, so that tests build exactly what the function runs;
//! - [`logs`]: the JSON-lines log subscriber both Lambdas install;
//! - [`processor`]: the event processor's Lambda over S3 configs,
//!   EventBridge, the command queue and the table's failure records;
//! - [`table_check`]: the table's layout checked before a DynamoDB store is
//!   used (a wrong one refuses to start; an unanswered check only warns).
//!
//! ```
//! let knobs = handler_env::Knobs::from_lookup(|name| match name {
//!     "HANDLER_CONCURRENCY" => Some("4".to_owned()),
//!     _ => None,
//! })
//! .unwrap();
//! assert_eq!(knobs.handler.concurrency, 4);
//! assert!(handler_env::Knobs::from_lookup(|_| Some("many".to_owned())).is_err());
//! ```
#![forbid(unsafe_code)]

pub mod clients;
pub mod knobs;
pub mod lambda;
pub mod logs;
pub mod processor;
pub mod table_check;

pub use clients::{ClientTimeouts, load_sdk_config, s3_client};
pub use knobs::{KnobError, Knobs};
pub use lambda::{LambdaEnv, LambdaEnvError, lambda_handler};
pub use processor::{
    LambdaProcessor, ProcessorEnv, delivery_sinks, lambda_processor, schedule_settings,
};
pub use table_check::{TableCheckError, check_table};
