//! What can go wrong: the error of a poll, and the applied message that
//! could not be deleted. A leaf module: it imports nothing of this crate.

/// Why a poll could not run.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// `ReceiveMessage` failed (network, credentials, missing queue).
    /// [`Worker::run`](crate::Worker::run) logs it and backs off; the other loops return it.
    #[error("ReceiveMessage on {queue_url} failed: {message}")]
    Receive {
        /// The queue.
        queue_url: String,
        /// The SDK's error, with its context, in one line.
        message: String,
        /// The SDK's error itself.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// An applied message that could not be deleted: it will come back, and the
/// handler will then recognise it as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteFailure {
    /// The message.
    pub message_id: String,
    /// SQS's error code (`ReceiptHandleIsInvalid`, ...), `RequestFailed`
    /// when the whole `DeleteMessageBatch` call failed, or
    /// `MissingReceiptHandle`.
    pub code: String,
    /// SQS's message, if any.
    pub message: String,
}
