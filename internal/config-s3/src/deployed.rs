//! Every config deployed under a prefix, each loaded as the handler would
//! load it (`cmdctl config validate --config s3://...`). Cost: one
//! `ListObjectsV2` per 1,000 keys, then one `GetObject` per config.

use handler_core::ConfigSourceError;
use handler_core::config_source::compile;
use handler_core::state_machine::StateMachine;

use crate::UploadError;
use crate::listing::list_types;
use crate::object::{object_key, s3_uri};
use crate::upload::fetch_config;

/// One `{prefix}{type}.json` object and what loading it came to.
#[derive(Debug)]
pub struct DeployedConfig {
    /// The type its key names.
    pub aggregate_type: String,
    /// `s3://bucket/key`.
    pub location: String,
    /// The compiled machine, or why it would not load (invalid, declaring
    /// another type, gone, or S3 failing on it).
    pub loaded: Result<StateMachine, ConfigSourceError>,
}

/// Every `{prefix}{type}.json` object directly under `prefix`, by type in
/// alphabetical order, each fetched and compiled as the handler would; an
/// empty list when there is none.
///
/// # Errors
/// [`UploadError::S3`] when the objects cannot be listed.
pub async fn deployed_configs(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<DeployedConfig>, UploadError> {
    let types = list_types(client, bucket, prefix)
        .await
        .map_err(|e| match e {
            ConfigSourceError::Unavailable { reason, source } => UploadError::S3 {
                message: reason,
                source,
            },
            other => UploadError::S3 {
                message: other.to_string(),
                source: None,
            },
        })?;
    let mut configs = Vec::with_capacity(types.len());
    for aggregate_type in types {
        let location = s3_uri(bucket, &object_key(prefix, &aggregate_type));
        let loaded = match fetch_config(client, bucket, prefix, &aggregate_type).await {
            Ok(Some((bytes, _etag))) => compile(&location, &bytes, Some(&aggregate_type)),
            Ok(None) => Err(ConfigSourceError::NotFound {
                aggregate_type: aggregate_type.clone(),
                location: location.clone(),
            }),
            Err(e) => Err(ConfigSourceError::unavailable_because(e.to_string(), e)),
        };
        configs.push(DeployedConfig {
            aggregate_type,
            location,
            loaded,
        });
    }
    Ok(configs)
}
