//! The aggregate types with a config under a prefix: one `ListObjectsV2`
//! per 1,000 keys, each `{prefix}{type}.json` directly under it.

use handler_core::{Cause, ConfigSourceError};

use crate::object::s3_uri;

/// Every type with a `{prefix}{type}.json` object directly under `prefix`,
/// sorted.
///
/// # Errors
/// [`ConfigSourceError::Unavailable`] when the objects cannot be listed,
/// the SDK's error as its source.
pub(crate) async fn list_types(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, ConfigSourceError> {
    let mut types = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| ConfigSourceError::Unavailable {
            reason: format!(
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
    Ok(types)
}
