//! One-line descriptions of AWS SDK errors for the `error: ...` line.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

pub(crate) use sdk_error::describe;

/// [`describe`], as an error.
pub(crate) fn error<E, R>(error: &SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug,
{
    anyhow::anyhow!(describe(error))
}
