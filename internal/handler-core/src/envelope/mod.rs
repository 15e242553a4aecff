//! The command message of docs/reference.md §1: strict parsing and validation of an
//! SQS message body into a [`Command`].
//!
//! - `parse`: the body's members read in order, each field's shape;
//! - `fields`: the checks of the text fields (aggregate type and id,
//!   command, command id: length, control and invisible characters) and how
//!   a member's key is shown in a reason;
//! - `numbers`: numbers in `payload` and `metadata` held exactly by every
//!   JSON reader.

use serde_json::{Map, Value};

use crate::model::AggregateKey;

mod fields;
mod numbers;
mod parse;

pub(crate) use fields::check_text;
pub use fields::{check_aggregate_id, check_aggregate_type, has_hidden_characters};
pub use numbers::MAX_SAFE_INTEGER;
pub use parse::parse_command;

/// The largest body SQS accepts for the queues this handler is built for (256 KiB).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest accepted `aggregateType`, in bytes.
pub const MAX_AGGREGATE_TYPE_BYTES: usize = 128;
/// Longest accepted `aggregateId`, in bytes.
pub const MAX_AGGREGATE_ID_BYTES: usize = 512;
/// Longest accepted `command`, in bytes.
pub const MAX_COMMAND_BYTES: usize = 128;
/// Longest accepted `commandId`, in bytes.
pub const MAX_COMMAND_ID_BYTES: usize = 256;

/// A parsed, validated command.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The idempotency key: `commandId`, or the SQS message id when absent.
    pub command_id: String,
    /// The aggregate the command is for.
    pub key: AggregateKey,
    /// The command's name.
    pub command: String,
    /// The payload (`{}` when absent).
    pub payload: Map<String, Value>,
    /// When present, the aggregate must be at exactly this version.
    pub expected_version: Option<u64>,
    /// Copied onto every event the command produces (`{}` when absent).
    pub metadata: Map<String, Value>,
}

/// Why a message body is not a valid command. Always permanent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The body is larger than SQS allows.
    #[error("message body is {size} bytes, over the {max}-byte limit")]
    BodyTooLarge {
        /// Body size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON, or not the envelope's shape (wrong type, missing or unknown field).
    #[error("malformed command message: {detail}")]
    Malformed {
        /// The parser's account: where (line and column, or the field) and
        /// what shape was expected, never the value found.
        detail: String,
    },
    /// A required string is empty.
    #[error("`{field}` must not be empty")]
    Empty {
        /// The field's name.
        field: &'static str,
    },
    /// A string is longer than allowed.
    #[error("`{field}` is {len} bytes, over the {max}-byte limit")]
    TooLong {
        /// The field's name.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A string holds a character it may not hold.
    #[error("`{field}` contains {what}")]
    ForbiddenCharacter {
        /// The field's name.
        field: &'static str,
        /// What was found.
        what: &'static str,
    },
    /// A string holds an invisible character: a format character (Unicode
    /// category Cf: bidi controls, zero-width characters, U+FEFF…) or a line
    /// or paragraph separator. Named by its code point, never shown.
    #[error("`{field}` contains U+{code_point:04X}, {what}")]
    InvisibleCharacter {
        /// The field's name.
        field: &'static str,
        /// The first such character's code point.
        code_point: u32,
        /// What kind of character it is.
        what: &'static str,
    },
    /// A number in `payload` or `metadata` is beyond ±[`MAX_SAFE_INTEGER`].
    #[error(
        "`{path}` holds a number beyond ±(2^53 − 1), which JSON readers would round; send it as a string"
    )]
    NumberOutOfRange {
        /// Its JSON Pointer from the body's root (`/payload/amount`).
        path: String,
    },
    /// `payload` or `metadata` is present but not a JSON object.
    #[error("`{field}` must be a JSON object")]
    NotAnObject {
        /// The field's name.
        field: &'static str,
    },
}

/// A body's reason for refusal, for the tests of each concern.
#[cfg(test)]
fn reason(body: &str) -> String {
    parse_command(body, "m-1").unwrap_err().to_string()
}
