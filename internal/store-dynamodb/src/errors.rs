//! From the SDK's errors to the trait's: what is a conflict, what is too
//! large, what is worth retrying.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use handler_core::{AppendError, Commit, StoreError};

/// A failure of a table operation outside the trait (creating the table).
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB: {0}")]
pub struct DynamoError(pub(crate) String);

impl DynamoError {
    pub(crate) fn sdk<E, R>(e: &SdkError<E, R>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        Self(sdk_error::describe(e))
    }
}

/// Any SDK failure of a read: transient.
pub(crate) fn store_error<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(sdk_error::describe(&e))
}

/// Reads a failed transaction: which condition failed decides the variant.
/// The items are in commit order: events, command records, head.
pub(crate) fn append_error<R: std::fmt::Debug>(
    e: SdkError<TransactWriteItemsError, R>,
    commit: &Commit,
) -> AppendError {
    let conflict = || AppendError::Conflict {
        key: commit.key.clone(),
        expected: commit.expected_version,
    };
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancel)) => {
            let reasons = cancel.cancellation_reasons();
            let events = commit.events.len();
            let failed = reasons
                .iter()
                .enumerate()
                .find(|(_, r)| r.code().is_some_and(|c| c != "None"));
            match failed {
                Some((i, r)) if r.code() == Some("ConditionalCheckFailed") => {
                    match commit.commands.get(i.wrapping_sub(events)) {
                        Some(record) if i >= events => AppendError::DuplicateCommand {
                            command_id: record.command_id.clone(),
                        },
                        _ => conflict(),
                    }
                }
                // Another transaction touched the same items at the same time.
                Some((_, r)) if r.code() == Some("TransactionConflict") => conflict(),
                Some((_, r)) if r.code() == Some("ValidationError") => {
                    AppendError::TooLarge(r.message().unwrap_or("validation error").to_owned())
                }
                _ => AppendError::Store(StoreError::Unavailable(sdk_error::describe(&e))),
            }
        }
        Some(other) if other.code() == Some("ValidationException") => {
            let message = other.message().unwrap_or_default();
            if message.contains("size") || message.contains("larger than") {
                AppendError::TooLarge(message.to_owned())
            } else {
                AppendError::Store(StoreError::Unavailable(sdk_error::describe(&e)))
            }
        }
        _ => AppendError::Store(StoreError::Unavailable(sdk_error::describe(&e))),
    }
}
