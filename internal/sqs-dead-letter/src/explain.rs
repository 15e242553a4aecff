//! Each dead letter beside the failure record the handler wrote for it.

use futures::{StreamExt, stream};
use handler_core::{FailureLog, StoreError, StoredFailure};

use command_messages::rejection_attributes as attributes;

use crate::DeadLetter;

/// Failure records read at once.
const CONCURRENT_LOOKUPS: usize = 16;

/// A dead letter and why it is there.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// The message.
    pub letter: DeadLetter,
    /// The failure record under [`DeadLetter::original_message_id`], if the
    /// store has one (records expire after 60 days).
    pub failure: Option<StoredFailure>,
    /// Why the record could not be read, if it could not.
    pub lookup_error: Option<StoreError>,
}

impl Explained {
    /// A dead letter with no store to ask.
    pub fn unexplained(letter: DeadLetter) -> Self {
        Self {
            letter,
            failure: None,
            lookup_error: None,
        }
    }

    /// `type#id`: from the failure record, else the rejection copy's
    /// attribute, else the body.
    pub fn aggregate(&self) -> Option<String> {
        self.failure
            .as_ref()
            .and_then(|f| f.last.aggregate.as_ref().map(ToString::to_string))
            .or_else(|| {
                self.letter
                    .attribute(attributes::AGGREGATE)
                    .map(str::to_owned)
            })
            .or_else(|| self.letter.body_fields().aggregate)
    }

    /// The command's name, from the same places.
    pub fn command(&self) -> Option<String> {
        self.failure
            .as_ref()
            .and_then(|f| f.last.command.clone())
            .or_else(|| {
                self.letter
                    .attribute(attributes::COMMAND)
                    .map(str::to_owned)
            })
            .or_else(|| self.letter.body_fields().command)
    }

    /// The command id, from the same places.
    pub fn command_id(&self) -> Option<String> {
        self.failure
            .as_ref()
            .and_then(|f| f.last.command_id.clone())
            .or_else(|| {
                self.letter
                    .attribute(attributes::COMMAND_ID)
                    .map(str::to_owned)
            })
            .or_else(|| self.letter.body_fields().command_id)
    }

    /// The failure's code: the record's latest, else the rejection copy's.
    pub fn code(&self) -> Option<&str> {
        self.failure
            .as_ref()
            .map(|f| f.last.code.as_str())
            .or_else(|| self.letter.attribute(attributes::REJECTION_CODE))
    }

    /// The failure's text: the record's latest, else the rejection copy's.
    pub fn reason(&self) -> Option<&str> {
        self.failure
            .as_ref()
            .map(|f| f.last.reason.as_str())
            .or_else(|| self.letter.attribute(attributes::REJECTION_REASON))
    }

    /// When it first failed (the record), else when it was rejected (the
    /// copy's attribute).
    pub fn first_failed_at(&self) -> Option<&str> {
        self.failure
            .as_ref()
            .map(|f| f.first_failed_at.as_str())
            .or_else(|| self.letter.attribute(attributes::REJECTED_AT))
    }

    /// When it last failed, from the same places.
    pub fn last_failed_at(&self) -> Option<&str> {
        self.failure
            .as_ref()
            .map(|f| f.last.failed_at.as_str())
            .or_else(|| self.letter.attribute(attributes::REJECTED_AT))
    }
}

/// Looks up the failure record of each letter (a few at a time), in order.
/// A lookup that fails leaves that letter unexplained, with the error.
pub async fn explain<S: FailureLog + ?Sized>(
    store: &S,
    letters: Vec<DeadLetter>,
) -> Vec<Explained> {
    stream::iter(letters)
        .map(|letter| async move {
            match store.failure(letter.original_message_id()).await {
                Ok(failure) => Explained {
                    letter,
                    failure,
                    lookup_error: None,
                },
                Err(e) => Explained {
                    letter,
                    failure: None,
                    lookup_error: Some(e),
                },
            }
        })
        .buffered(CONCURRENT_LOOKUPS)
        .collect()
        .await
}
