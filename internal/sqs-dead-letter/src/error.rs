//! What can go wrong on the dead-letter queue.

use std::error::Error;

use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use handler_core::Cause;

/// Why a DLQ operation could not be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DlqError {
    /// SQS refused a request or could not be reached.
    #[error("{operation} on {queue}: {message}")]
    Sqs {
        /// The SQS action (`ReceiveMessage`, ...).
        operation: &'static str,
        /// The queue's URL or ARN.
        queue: String,
        /// What SQS said (`Code: message`), or why it could not be reached.
        message: String,
        /// The SDK's error, when there is one.
        #[source]
        source: Option<Cause>,
    },
    /// The source queue has no redrive policy, so its DLQ is unknown.
    #[error("{queue} has no redrive policy: give the dead-letter queue's URL")]
    NoRedrivePolicy {
        /// The source queue's URL.
        queue: String,
    },
    /// The source queue's redrive policy could not be read.
    #[error("the redrive policy of {queue} is not understood: {detail}")]
    BadRedrivePolicy {
        /// The source queue's URL.
        queue: String,
        /// What is wrong with it.
        detail: String,
    },
    /// No queue names this one as its DLQ: it may be a live queue, so it is
    /// neither purged nor redriven.
    #[error(
        "{dlq} is no queue's dead-letter queue (ListDeadLetterSourceQueues names none), so it may be a live queue: refused; give the URL of a dead-letter queue"
    )]
    NoSourceQueue {
        /// The DLQ's URL.
        dlq: String,
    },
    /// Several queues use this DLQ, so the source is ambiguous.
    #[error(
        "several queues use {dlq} as their dead-letter queue ({queues}): give the source queue's URL"
    )]
    SeveralSourceQueues {
        /// The DLQ's URL.
        dlq: String,
        /// Their URLs, comma-separated.
        queues: String,
    },
}

impl DlqError {
    /// An SDK error of `operation` on `queue`, described in one line: the
    /// service's `Code: message`, or the HTTP status of an answer without
    /// one (an emulator's HTML error page), or why there was no answer.
    pub(crate) fn sqs<E>(
        operation: &'static str,
        queue: &str,
        error: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + Error + Send + Sync + 'static,
    {
        let message = match (error.code(), error.raw_response()) {
            (None, Some(response)) => {
                format!("HTTP {} without an error code", response.status().as_u16())
            }
            _ => sdk_error::describe(&error),
        };
        DlqError::Sqs {
            operation,
            queue: queue.to_owned(),
            message,
            source: Some(Cause::new(error)),
        }
    }
}
