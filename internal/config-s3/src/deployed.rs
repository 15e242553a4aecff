//! Every config deployed under a prefix, each loaded as the handler would
//! load it (`cmdctl config validate --config s3://...`). Cost: one
//! `ListObjectsV2` per 1,000 keys, then one `GetObject` per config.

use handler_core::config_source::compile;
use handler_core::state_machine::StateMachine;
use handler_core::{Cause, ConfigSourceError};

use crate::UploadError;
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
    let mut types = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| UploadError::S3 {
            message: format!(
                "cannot list {}: {}",
                s3_uri(bucket, prefix),
                sdk_error::describe(&e)
            ),
            source: Some(Cause::new(e)),
        })?;
        for object in page.contents() {
            let name = object.key().and_then(|k| k.strip_prefix(prefix));
            if let Some(aggregate_type) = name
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|t| !t.is_empty() && !t.contains('/'))
            {
                types.push(aggregate_type.to_owned());
            }
        }
    }
    types.sort();
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
