//! The command message of CONTRACT §2: strict parsing and validation of an
//! SQS message body into a [`Command`].

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::model::AggregateKey;

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
        /// The parser's account, with the field path where known.
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
    /// `payload` or `metadata` is present but not a JSON object.
    #[error("`{field}` must be a JSON object")]
    NotAnObject {
        /// The field's name.
        field: &'static str,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEnvelope {
    #[serde(default)]
    command_id: Option<String>,
    aggregate_type: String,
    aggregate_id: String,
    command: String,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    expected_version: Option<u64>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// Parses and validates one message body. `message_id` stands in for a missing
/// `commandId`. `null` is taken as absent for the optional fields.
///
/// ```
/// let cmd = handler_core::parse_command(
///     r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder"}"#,
///     "msg-1",
/// ).unwrap();
/// assert_eq!(cmd.command_id, "msg-1");
/// assert_eq!(cmd.key.to_string(), "order#o-1");
/// ```
pub fn parse_command(body: &str, message_id: &str) -> Result<Command, EnvelopeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(EnvelopeError::BodyTooLarge {
            size: body.len(),
            max: MAX_BODY_BYTES,
        });
    }
    // serde would also read a struct from an array, field by field.
    let start = body.trim_start();
    if !start.starts_with('{') {
        let detail = if start.is_empty() {
            "the body is empty"
        } else {
            "the body must be a JSON object"
        };
        return Err(EnvelopeError::Malformed {
            detail: detail.into(),
        });
    }
    let de = &mut serde_json::Deserializer::from_str(body);
    let raw: RawEnvelope =
        serde_path_to_error::deserialize(&mut *de).map_err(|e| EnvelopeError::Malformed {
            detail: describe_path_error(&e),
        })?;
    de.end().map_err(|e| EnvelopeError::Malformed {
        detail: e.to_string(),
    })?;

    check_aggregate_type(&raw.aggregate_type)?;
    check_text(
        "aggregateId",
        &raw.aggregate_id,
        MAX_AGGREGATE_ID_BYTES,
        true,
    )?;
    check_text("command", &raw.command, MAX_COMMAND_BYTES, false)?;
    let command_id = match raw.command_id {
        Some(id) => {
            check_text("commandId", &id, MAX_COMMAND_ID_BYTES, false)?;
            id
        }
        None => message_id.to_owned(),
    };
    Ok(Command {
        command_id,
        key: AggregateKey::new(raw.aggregate_type, raw.aggregate_id),
        command: raw.command,
        payload: object_or_empty("payload", raw.payload)?,
        expected_version: raw.expected_version,
        metadata: object_or_empty("metadata", raw.metadata)?,
    })
}

fn describe_path_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let path = e.path().to_string();
    let positional = matches!(
        e.inner().classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    );
    if positional || path == "." || path.is_empty() {
        e.inner().to_string()
    } else {
        format!("{path}: {}", e.inner())
    }
}

fn object_or_empty(
    field: &'static str,
    value: Option<Value>,
) -> Result<Map<String, Value>, EnvelopeError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(EnvelopeError::NotAnObject { field }),
    }
}

/// An aggregate type names a config file and an S3 key, and is the part of the
/// table key before `#`: ASCII letters, digits, `_`, `-` and `.`, starting
/// with a letter or digit.
fn check_aggregate_type(value: &str) -> Result<(), EnvelopeError> {
    let field = "aggregateType";
    check_text(field, value, MAX_AGGREGATE_TYPE_BYTES, true)?;
    if !value.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(EnvelopeError::ForbiddenCharacter {
            field,
            what: "a character other than ASCII letters, digits, '_', '-' and '.' (or does not start with a letter or digit)",
        });
    }
    Ok(())
}

pub(crate) fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    key_part: bool,
) -> Result<(), EnvelopeError> {
    if value.is_empty() {
        return Err(EnvelopeError::Empty { field });
    }
    if value.len() > max {
        return Err(EnvelopeError::TooLong {
            field,
            len: value.len(),
            max,
        });
    }
    if value.chars().any(char::is_control) {
        return Err(EnvelopeError::ForbiddenCharacter {
            field,
            what: "a control character",
        });
    }
    if key_part && value.contains('#') {
        return Err(EnvelopeError::ForbiddenCharacter {
            field,
            what: "'#', which separates type and id in the table key",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(body: &str) -> String {
        parse_command(body, "m-1").unwrap_err().to_string()
    }

    #[test]
    fn the_contract_example_parses() {
        let cmd = parse_command(
            r#"{"commandId":"c-1","aggregateType":"order","aggregateId":"order-42",
                "command":"CreateOrder","payload":{"itemId":"coffee-beans","quantity":1},
                "expectedVersion":0,"metadata":{"correlationId":"c-1"}}"#,
            "m-1",
        )
        .unwrap();
        assert_eq!(cmd.command_id, "c-1");
        assert_eq!(cmd.expected_version, Some(0));
        assert_eq!(cmd.metadata["correlationId"], "c-1");
    }

    #[test]
    fn optional_fields_default_and_null_means_absent() {
        let cmd = parse_command(
            r#"{"aggregateType":"order","aggregateId":"o","command":"C","payload":null,"commandId":null}"#,
            "m-9",
        )
        .unwrap();
        assert_eq!(cmd.command_id, "m-9");
        assert!(cmd.payload.is_empty() && cmd.metadata.is_empty());
        assert_eq!(cmd.expected_version, None);
    }

    #[test]
    fn each_fault_is_named() {
        let cases = [
            ("not json", "malformed"),
            (r#"{"aggregateType":"order","aggregateId":"o"}"#, "command"),
            (
                r#"{"aggregateType":"order","aggregateId":"o","command":"C","extra":1}"#,
                "unknown field `extra`",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":5,"command":"C"}"#,
                "aggregateId",
            ),
            (
                r#"{"aggregateType":"","aggregateId":"o","command":"C"}"#,
                "`aggregateType` must not be empty",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":"a#b","command":"C"}"#,
                "'#'",
            ),
            (
                r#"{"aggregateType":"ord/er","aggregateId":"o","command":"C"}"#,
                "ASCII letters",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":"o\u0000","command":"C"}"#,
                "control character",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":"o","command":"C","payload":[1]}"#,
                "`payload` must be a JSON object",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":"o","command":"C","expectedVersion":-1}"#,
                "expectedVersion",
            ),
            (
                r#"{"aggregateType":"order","aggregateId":"o","command":"C","commandId":""}"#,
                "`commandId` must not be empty",
            ),
        ];
        for (body, want) in cases {
            let got = reason(body);
            assert!(got.contains(want), "{body}: {got}");
        }
    }

    #[test]
    fn an_oversized_body_is_refused_before_parsing() {
        let body = format!("{{\"x\":\"{}\"}}", "a".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            parse_command(&body, "m"),
            Err(EnvelopeError::BodyTooLarge { .. })
        ));
    }
}
