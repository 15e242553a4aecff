//! The config bucket itself, for emulators and dev accounts: created
//! idempotently (production buckets come from infrastructure as code).
//! Cost: one `CreateBucket` request.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

/// The bucket could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot create bucket {bucket}: {reason}")]
pub struct BucketError {
    /// The bucket's name.
    pub bucket: String,
    /// What S3 said (`Code: message`), or why it could not be reached.
    pub reason: String,
}

/// Creates `bucket` in `region` (none: the client's default) unless this
/// account has it already.
///
/// # Errors
/// S3 refused (another account owns the name, ...) or could not be reached.
pub async fn create_bucket(
    s3: &Client,
    bucket: &str,
    region: Option<&str>,
) -> Result<(), BucketError> {
    let mut create = s3.create_bucket().bucket(bucket);
    // us-east-1 is the default location and must not be named.
    if let Some(region) = region.filter(|r| *r != "us-east-1") {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => Err(BucketError {
            bucket: bucket.to_owned(),
            reason: sdk_error::describe(&e),
        }),
    }
}
