//! From the SDK's errors to the trait's: what is a conflict, what is too
//! large, what is worth retrying.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use handler_core::{AppendError, Commit, StoreError};

/// A failure of a table operation outside the trait (creating the table):
/// the SDK's message, the SDK's error its source.
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB: {message}")]
pub struct DynamoError {
    message: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl DynamoError {
    pub(crate) fn sdk<E, R>(e: SdkError<E, R>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Self {
            message: sdk_error::describe(&e),
            source: Box::new(e),
        }
    }

    /// A request the SDK could not build.
    pub(crate) fn build(e: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self {
            message: e.to_string(),
            source: Box::new(e),
        }
    }
}

/// Any SDK failure of a read: transient, the SDK's error its source.
pub(crate) fn store_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::unavailable(sdk_error::describe(&e)).with_source(e)
}

/// Reads a failed transaction: which condition failed decides the variant.
/// Every action is an event put under `attribute_not_exists(pk)`, so a
/// failed condition is a version already written.
pub(crate) fn append_error<R: std::fmt::Debug + Send + Sync + 'static>(
    e: SdkError<TransactWriteItemsError, R>,
    commit: &Commit,
) -> AppendError {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let failed = cancel
                .cancellation_reasons()
                .iter()
                .find(|r| r.code().is_some_and(|c| c != "None"));
            match failed.and_then(|r| r.code()) {
                Some("ConditionalCheckFailed") => conflict(commit),
                // Another transaction touched the same items at the same time.
                Some("TransactionConflict") => conflict(commit),
                Some("ValidationError") => AppendError::TooLarge(
                    failed
                        .and_then(|r| r.message())
                        .unwrap_or("validation error")
                        .to_owned(),
                ),
                _ => AppendError::Store(store_error(e)),
            }
        }
        Some(other) if other.code() == Some("ValidationException") => {
            let message = other.message().map(str::to_owned);
            too_large_or_unavailable(message.as_deref(), e)
        }
        _ => AppendError::Store(store_error(e)),
    }
}

/// Reads a failed single-event put: a failed condition is a version already
/// written.
pub(crate) fn put_error<R: std::fmt::Debug + Send + Sync + 'static>(
    e: SdkError<PutItemError, R>,
    commit: &Commit,
) -> AppendError {
    match e.as_service_error() {
        Some(PutItemError::ConditionalCheckFailedException(_)) => conflict(commit),
        Some(other) if other.code() == Some("ValidationException") => {
            let message = other.message().map(str::to_owned);
            too_large_or_unavailable(message.as_deref(), e)
        }
        _ => AppendError::Store(store_error(e)),
    }
}

fn conflict(commit: &Commit) -> AppendError {
    AppendError::Conflict {
        key: commit.key.clone(),
        expected: commit.expected_version,
    }
}

/// A validation error about sizes is a commit too large; any other is the
/// store's fault.
fn too_large_or_unavailable<E, R>(message: Option<&str>, e: SdkError<E, R>) -> AppendError
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let message = message.unwrap_or_default();
    if message.contains("size") || message.contains("larger than") {
        AppendError::TooLarge(message.to_owned())
    } else {
        AppendError::Store(store_error(e))
    }
}
