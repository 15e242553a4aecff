//! The message attributes the rejection sink (`sqs-dlq-sink`) puts on
//! a rejected message's copy. A redrive strips them again, so the command
//! goes back as it came.

/// The failure's code (`invalid_transition`, ...).
pub const REJECTION_CODE: &str = "rejectionCode";
/// The failure's text (never payload values).
pub const REJECTION_REASON: &str = "rejectionReason";
/// The message id on the source queue: the failure record's key.
pub const ORIGINAL_MESSAGE_ID: &str = "originalMessageId";
/// `type#id`, when the body could be parsed.
pub const AGGREGATE: &str = "aggregate";
/// The command's name, when the body could be parsed.
pub const COMMAND: &str = "command";
/// The command id, when the body could be parsed.
pub const COMMAND_ID: &str = "commandId";
/// When the message was rejected, RFC 3339 UTC.
pub const REJECTED_AT: &str = "rejectedAt";

/// Every attribute a rejection copy carries.
pub const ALL: [&str; 7] = [
    REJECTION_CODE,
    REJECTION_REASON,
    ORIGINAL_MESSAGE_ID,
    AGGREGATE,
    COMMAND,
    COMMAND_ID,
    REJECTED_AT,
];
