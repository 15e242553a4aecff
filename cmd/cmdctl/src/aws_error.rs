//! One-line descriptions of AWS SDK errors for the `error: ...` line.

use std::error::Error;
use std::fmt::Debug;

use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// `Code: message` when the service answered with an error; otherwise (no
/// connection, timeout, ...) the SDK's whole chain of causes.
pub(crate) fn describe<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => DisplayErrorContext(error).to_string(),
    }
}

/// [`describe`], as an error.
pub(crate) fn error<E, R>(error: &SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + Error + 'static,
    R: Debug,
{
    anyhow::anyhow!(describe(error))
}
