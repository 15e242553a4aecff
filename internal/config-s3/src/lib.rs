//! The S3 [`ConfigSource`]: the state-machine config of aggregate type `T` is
//! the object `{prefix}{T}.json` of a bucket (docs/reference.md §4, §2). This crate
//! owns reading those objects (cached per type, revalidated by ETag after a
//! TTL) and writing them ([`upload_config`], which validates first, and
//! [`fetch_config`] for comparing with what is deployed).
//!
//! Modules: [`source`](S3ConfigSource) (the cached reader), `upload` (the
//! operator's upload and fetch), `object` (keys, one `GetObject`, compiling),
//! [`bucket`](create_bucket) (the bucket itself, created idempotently),
//! [`deployed`](deployed_configs) (every config under a prefix, each loaded
//! as the handler would), `listing` (the types under a prefix: the
//! source's [`aggregate_types`](handler_core::ConfigSource::aggregate_types),
//! cached with the same TTL, which the search for an outside event's
//! binding reads).
//!
//! The S3 client itself is built by [`s3_client`] (path-style behind an
//! endpoint override).
//!
//! What it may depend on: the trait it implements (`handler-core`, and the
//! state machine through it), the S3 SDK and `sdk-error`; never a store or
//! another adapter.
//!
//! Reading, as the Lambda does:
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_s3::Client) {
//! use handler_core::ConfigSource;
//! use std::time::Duration;
//!
//! let configs = config_s3::S3ConfigSource::new(client, "my-configs", "configs/")
//!     .with_ttl(Duration::from_secs(30));
//! // GetObject s3://my-configs/configs/order.json, then at most one
//! // conditional request per 30 s.
//! let order = configs.state_machine("order").await.unwrap();
//! assert_eq!(order.aggregate_type(), "order");
//! # }
//! ```
//!
//! Uploading, as `cmdctl config upload` does: an invalid config, or one
//! whose `version` is lower than the deployed one's, is refused before
//! anything is written ([`force_upload_config`] goes back on purpose).
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_s3::Client) -> Result<(), config_s3::UploadError> {
//! let bytes = std::fs::read("config/order.json").unwrap();
//! let up = config_s3::upload_config(&client, "my-configs", "", &bytes, Some("order")).await?;
//! assert_eq!(up.key, "order.json");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod bucket;
mod client;
mod deployed;
mod listing;
mod object;
mod source;
mod upload;

pub use bucket::{BucketError, create_bucket};
pub use client::s3_client;
pub use deployed::{DeployedConfig, deployed_configs};
pub use object::object_key;
pub use source::{DEFAULT_TTL, S3ConfigSource};
pub use upload::{
    UploadError, Uploaded, deployed_version, fetch_config, force_upload_config, upload_config,
};
