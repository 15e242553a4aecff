//! The operator's side: a validated upload (never over a newer version
//! unless forced), and fetching what is deployed to compare with it.

use handler_core::Cause;
use handler_core::state_machine::{ConfigError, StateMachine};

use crate::object::{Fetched, get_object, object_key, s3_uri};

/// A config written by [`upload_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object key: `{prefix}{aggregate_type}.json`.
    pub key: String,
    /// The new object's ETag, as S3 returned it (quoted).
    pub etag: Option<String>,
    /// The config's `aggregateType`.
    pub aggregate_type: String,
    /// The config's `version`.
    pub version: u64,
}

/// Why a config was not uploaded or fetched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UploadError {
    /// The config is invalid; nothing was written.
    #[error("config {location} is invalid:\n{error}")]
    Invalid {
        /// Where it would have gone (`s3://bucket/key`), or the bucket and
        /// prefix when not even its aggregate type could be read.
        location: String,
        /// Every fault.
        error: ConfigError,
    },
    /// The config declares another aggregate type than the one expected;
    /// nothing was written.
    #[error("config {location} declares aggregateType `{declared}`, expected `{expected}`")]
    WrongType {
        /// Where it would have gone (`s3://bucket/key` of the expected type).
        location: String,
        /// What the config says.
        declared: String,
        /// What the caller expected.
        expected: String,
    },
    /// The deployed config has a higher `version` than the one uploaded;
    /// nothing was written ([`force_upload_config`] replaces it anyway).
    #[error(
        "config {location} is at version {deployed}, newer than the uploaded version {uploading}: not replaced (force it to go back)"
    )]
    Older {
        /// The deployed object (`s3://bucket/key`).
        location: String,
        /// The deployed config's `version`.
        deployed: u64,
        /// The uploaded config's `version`.
        uploading: u64,
    },
    /// S3 refused or could not be reached.
    #[error("S3: {message}")]
    S3 {
        /// Where, and the SDK's full message.
        message: String,
        /// The SDK's error, when there is one.
        #[source]
        source: Option<Cause>,
    },
}

/// Validates `bytes` (it must compile as a state machine, and declare
/// `expected_type` as its `aggregateType` when that is given), checks that
/// the deployed config, if any, has no higher `version`, and only then puts
/// it to `{prefix}{aggregateType}.json` in `bucket`.
///
/// # Errors
/// [`UploadError::Invalid`] or [`UploadError::WrongType`] when the config is
/// refused, [`UploadError::Older`] when it would replace a newer one (nothing
/// is written); [`UploadError::S3`] when S3 fails.
pub async fn upload_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
) -> Result<Uploaded, UploadError> {
    put_config(client, bucket, prefix, bytes, expected_type, true).await
}

/// [`upload_config`] without the version check: replaces whatever is
/// deployed, even a newer version (still validated first).
///
/// # Errors
/// As [`upload_config`], never [`UploadError::Older`].
pub async fn force_upload_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
) -> Result<Uploaded, UploadError> {
    put_config(client, bucket, prefix, bytes, expected_type, false).await
}

/// The `version` of the deployed config of `aggregate_type`: `None` when
/// there is no such object, or when it has no readable `version` (an invalid
/// config is no version to protect).
///
/// # Errors
/// [`UploadError::S3`] when S3 refuses or cannot be reached.
pub async fn deployed_version(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    aggregate_type: &str,
) -> Result<Option<u64>, UploadError> {
    let deployed = fetch_config(client, bucket, prefix, aggregate_type).await?;
    Ok(deployed.and_then(|(bytes, _)| {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()?
            .get("version")?
            .as_u64()
    }))
}

async fn put_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
    refuse_older: bool,
) -> Result<Uploaded, UploadError> {
    let machine = StateMachine::from_json(bytes).map_err(|error| UploadError::Invalid {
        location: upload_location(bucket, prefix, bytes, expected_type),
        error,
    })?;
    let aggregate_type = machine.aggregate_type().to_owned();
    if let Some(expected) = expected_type
        && expected != aggregate_type
    {
        return Err(UploadError::WrongType {
            location: s3_uri(bucket, &object_key(prefix, expected)),
            declared: aggregate_type,
            expected: expected.to_owned(),
        });
    }
    let key = object_key(prefix, &aggregate_type);
    if refuse_older
        && let Some(deployed) = deployed_version(client, bucket, prefix, &aggregate_type).await?
        && deployed > machine.version()
    {
        return Err(UploadError::Older {
            location: s3_uri(bucket, &key),
            deployed,
            uploading: machine.version(),
        });
    }
    let put = client
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(bytes.to_vec().into())
        .send()
        .await
        .map_err(|e| UploadError::S3 {
            message: sdk_error::describe(&e),
            source: Some(Cause::new(e)),
        })?;
    Ok(Uploaded {
        key,
        etag: put.e_tag().map(str::to_owned),
        aggregate_type,
        version: machine.version(),
    })
}

/// Where a refused config would have gone: the expected type's key, else
/// the declared type's when the document has one, else the bucket and prefix.
fn upload_location(bucket: &str, prefix: &str, bytes: &[u8], expected: Option<&str>) -> String {
    let declared = || {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()?
            .get("aggregateType")?
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    match expected.map(str::to_owned).or_else(declared) {
        Some(aggregate_type) => s3_uri(bucket, &object_key(prefix, &aggregate_type)),
        None => s3_uri(bucket, prefix),
    }
}

/// The deployed config of `aggregate_type` (its bytes and ETag), or `None`
/// when there is no such object.
///
/// # Errors
/// [`UploadError::S3`] when S3 refuses or cannot be reached.
pub async fn fetch_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    aggregate_type: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, UploadError> {
    let key = object_key(prefix, aggregate_type);
    match get_object(client, bucket, &key, None).await {
        Fetched::Body(bytes, etag) => Ok(Some((bytes, etag))),
        Fetched::NoSuchKey => Ok(None),
        Fetched::NotModified => Err(UploadError::S3 {
            message: format!("{}: unexpected 304 Not Modified", s3_uri(bucket, &key)),
            source: None,
        }),
        Fetched::Failed(message, cause) => Err(UploadError::S3 {
            message: format!("{}: {message}", s3_uri(bucket, &key)),
            source: Some(cause),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_upload_names_where_it_would_have_gone() {
        assert_eq!(
            upload_location("b", "p/", b"{", Some("order")),
            "s3://b/p/order.json"
        );
        assert_eq!(
            upload_location("b", "p/", br#"{"aggregateType":"invoice"}"#, None),
            "s3://b/p/invoice.json"
        );
        assert_eq!(upload_location("b", "p/", b"not json", None), "s3://b/p/");
    }
}
