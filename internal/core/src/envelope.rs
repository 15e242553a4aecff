//! The command message of docs/reference.md §1: strict parsing and validation of an
//! SQS message body into a [`Command`].

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use unicode_general_category::{GeneralCategory, get_general_category};

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

/// The largest magnitude of a number in `payload` or `metadata`: 2^53 − 1.
/// Every JSON reader that holds numbers as doubles (JavaScript, jq, most
/// stream consumers) rounds an integer past it, and serde_json itself rounds
/// one past 2^64, so a larger number is refused rather than silently changed
/// (RFC 7493, I-JSON). Send a larger quantity as a string.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

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

/// The envelope's fields, in the order a missing one is reported.
const FIELDS: [&str; 7] = [
    "commandId",
    "aggregateType",
    "aggregateId",
    "command",
    "payload",
    "expectedVersion",
    "metadata",
];

/// The body's top-level members in the order written, duplicates kept: the
/// envelope is checked from them with reasons of its own, because serde's
/// would quote the offending values.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry::<String, Value>()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// Parses and validates one message body. `message_id` stands in for a missing
/// `commandId`. `null` is taken as absent for the optional fields.
///
/// Reasons name the field or path and the shape expected, never a value
/// (an unknown member is named by its key, escaped, like a path).
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
        return Err(malformed(detail));
    }
    let de = &mut serde_json::Deserializer::from_str(body);
    let Members(members) = Members::deserialize(&mut *de).map_err(|e| syntax_error(&e))?;
    de.end().map_err(|e| syntax_error(&e))?;

    let mut fields: [Option<Value>; FIELDS.len()] = Default::default();
    for (name, value) in members {
        let Some(i) = FIELDS.iter().position(|f| *f == name) else {
            let expected: Vec<String> = FIELDS.iter().map(|f| format!("`{f}`")).collect();
            return Err(malformed(format!(
                "unknown field {}, expected one of {}",
                quote_key(&name),
                expected.join(", ")
            )));
        };
        if fields[i].is_some() {
            return Err(malformed(format!("duplicate field `{name}`")));
        }
        fields[i] = Some(value);
    }
    let [
        command_id,
        aggregate_type,
        aggregate_id,
        command,
        payload,
        expected_version,
        metadata,
    ] = fields;
    let aggregate_type = required_string("aggregateType", aggregate_type)?;
    let aggregate_id = required_string("aggregateId", aggregate_id)?;
    let command = required_string("command", command)?;
    let command_id = optional_string("commandId", command_id)?;
    let expected_version = optional_version(expected_version)?;
    let payload = object_or_empty("payload", payload)?;
    let metadata = object_or_empty("metadata", metadata)?;

    check_aggregate_type(&aggregate_type)?;
    check_aggregate_id(&aggregate_id)?;
    check_text("command", &command, MAX_COMMAND_BYTES, false)?;
    let command_id = match command_id {
        Some(id) => {
            check_text("commandId", &id, MAX_COMMAND_ID_BYTES, false)?;
            id
        }
        None => message_id.to_owned(),
    };
    check_numbers("/payload", &payload)?;
    check_numbers("/metadata", &metadata)?;
    Ok(Command {
        command_id,
        key: AggregateKey::new(aggregate_type, aggregate_id),
        command,
        payload,
        expected_version,
        metadata,
    })
}

fn malformed(detail: impl Into<String>) -> EnvelopeError {
    EnvelopeError::Malformed {
        detail: detail.into(),
    }
}

/// serde_json's account of text that is not one JSON object: syntax errors
/// say where (line and column), never what was there.
fn syntax_error(e: &serde_json::Error) -> EnvelopeError {
    match e.classify() {
        serde_json::error::Category::Data => malformed("the body must be a JSON object"),
        _ => malformed(e.to_string()),
    }
}

/// The JSON type of a value, in serde's words.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "floating point",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "map",
    }
}

fn invalid_type(field: &str, value: &Value, expected: &str) -> EnvelopeError {
    malformed(format!(
        "{field}: invalid type: {}, expected {expected}",
        kind(value)
    ))
}

fn required_string(field: &'static str, value: Option<Value>) -> Result<String, EnvelopeError> {
    match value {
        None => Err(malformed(format!("missing field `{field}`"))),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(invalid_type(field, &other, "a string")),
    }
}

fn optional_string(
    field: &'static str,
    value: Option<Value>,
) -> Result<Option<String>, EnvelopeError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(invalid_type(field, &other, "a string")),
    }
}

fn optional_version(value: Option<Value>) -> Result<Option<u64>, EnvelopeError> {
    let field = "expectedVersion";
    let expected = "a non-negative integer";
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_u64() => Ok(n.as_u64()),
        Some(Value::Number(n)) if n.is_i64() => Err(malformed(format!(
            "{field}: invalid value: a negative integer, expected {expected}"
        ))),
        Some(other) => Err(invalid_type(field, &other, expected)),
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

/// Refuses a number of `object` (at any depth) whose magnitude is over
/// [`MAX_SAFE_INTEGER`], naming its JSON Pointer below `at`.
fn check_numbers(at: &str, object: &Map<String, Value>) -> Result<(), EnvelopeError> {
    fn walk(path: &mut String, value: &Value) -> Result<(), EnvelopeError> {
        let len = path.len();
        match value {
            Value::Number(n) if !is_exact_everywhere(n) => {
                return Err(EnvelopeError::NumberOutOfRange { path: path.clone() });
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push_str(&format!("/{i}"));
                    walk(path, item)?;
                    path.truncate(len);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    path.push('/');
                    path.push_str(&pointer_token(key));
                    walk(path, item)?;
                    path.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }
    for (key, value) in object {
        let mut path = format!("{at}/{}", pointer_token(key));
        walk(&mut path, value)?;
    }
    Ok(())
}

/// A number every JSON reader holds exactly: its magnitude is at most
/// [`MAX_SAFE_INTEGER`] (RFC 7493, I-JSON, §2.2).
fn is_exact_everywhere(n: &serde_json::Number) -> bool {
    if let Some(u) = n.as_u64() {
        u <= MAX_SAFE_INTEGER
    } else if let Some(i) = n.as_i64() {
        i.unsigned_abs() <= MAX_SAFE_INTEGER
    } else {
        // Past 2^53 every double is an integer: one written as `1e300`
        // cannot be told from one that was rounded.
        n.as_f64()
            .is_some_and(|f| f.abs() <= MAX_SAFE_INTEGER as f64)
    }
}

/// Longest key shown in a reason, in characters; a longer one is cut, with `…`.
const MAX_SHOWN_KEY_CHARS: usize = 64;

/// A key as it may appear in a reason: control, format and separator
/// characters escaped as `\u{…}`, cut after [`MAX_SHOWN_KEY_CHARS`].
fn shown_key(key: &str) -> String {
    let mut shown = String::new();
    for (i, c) in key.chars().enumerate() {
        if i == MAX_SHOWN_KEY_CHARS {
            shown.push('…');
            break;
        }
        if c.is_control() || invisible(c).is_some() {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            shown.push(c);
        }
    }
    shown
}

/// A key as a JSON Pointer token (RFC 6901), shown as [`shown_key`] does.
fn pointer_token(key: &str) -> String {
    shown_key(&key.replace('~', "~0").replace('/', "~1"))
}

/// An unknown member's name, in backticks, shown as [`shown_key`] does.
fn quote_key(key: &str) -> String {
    format!("`{}`", shown_key(key))
}

/// What an invisible character is, when `c` is one: a format character
/// (Unicode general category Cf: bidi controls U+202A..U+202E and
/// U+2066..U+2069, zero-width U+200B..U+200D, U+FEFF, soft hyphen, tags…),
/// or a line or paragraph separator (Zl, Zp: U+2028, U+2029).
fn invisible(c: char) -> Option<&'static str> {
    match get_general_category(c) {
        GeneralCategory::Format => Some("an invisible format character (Unicode category Cf)"),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some("a line or paragraph separator (Unicode category Zl/Zp)")
        }
        _ => None,
    }
}

/// Checks an aggregate type as the envelope does; `cmdctl` uses it for its
/// `TYPE` arguments. An aggregate type names a config file and an S3 key,
/// and is the part of the table key before `#`: ASCII letters, digits, `_`,
/// `-` and `.`, starting with a letter or digit, at most
/// [`MAX_AGGREGATE_TYPE_BYTES`].
///
/// ```
/// use handler_core::envelope::check_aggregate_type;
/// assert!(check_aggregate_type("order").is_ok());
/// assert!(check_aggregate_type("../order").is_err());
/// ```
///
/// # Errors
/// The reason, naming the field `aggregateType` and never the value.
pub fn check_aggregate_type(value: &str) -> Result<(), EnvelopeError> {
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

/// Checks an aggregate id as the envelope does: not empty, at most
/// [`MAX_AGGREGATE_ID_BYTES`], no `#`, no control, format or separator
/// characters.
///
/// # Errors
/// The reason, naming the field `aggregateId` and never the value.
pub fn check_aggregate_id(value: &str) -> Result<(), EnvelopeError> {
    check_text("aggregateId", value, MAX_AGGREGATE_ID_BYTES, true)
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
    if let Some((c, what)) = value.chars().find_map(|c| invisible(c).map(|w| (c, w))) {
        return Err(EnvelopeError::InvisibleCharacter {
            field,
            code_point: u32::from(c),
            what,
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
                "expectedVersion: invalid value: a negative integer, expected a non-negative integer",
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
    fn numbers_past_2_pow_53_are_refused_by_path() {
        let body = |payload: &str| {
            format!(
                r#"{{"aggregateType":"order","aggregateId":"o","command":"C","payload":{payload}}}"#
            )
        };
        for (payload, path) in [
            (r#"{"n":9007199254740992}"#, "/payload/n"),
            (r#"{"n":-9007199254740992}"#, "/payload/n"),
            (r#"{"a":{"b":[1,18446744073709551615]}}"#, "/payload/a/b/1"),
            (r#"{"n":18446744073709551617}"#, "/payload/n"),
            (r#"{"n":1e300}"#, "/payload/n"),
            (r#"{"a/b~c":1e16}"#, "/payload/a~1b~0c"),
        ] {
            let got = parse_command(&body(payload), "m").unwrap_err();
            assert_eq!(
                got,
                EnvelopeError::NumberOutOfRange { path: path.into() },
                "{payload}"
            );
            let reason = got.to_string();
            assert!(
                !reason.contains("9007") && !reason.contains("1844"),
                "{reason}"
            );
        }
        let meta = r#"{"aggregateType":"order","aggregateId":"o","command":"C","metadata":{"t":[9007199254740993]}}"#;
        assert_eq!(
            parse_command(meta, "m").unwrap_err(),
            EnvelopeError::NumberOutOfRange {
                path: "/metadata/t/0".into()
            }
        );
        for fine in [
            r#"{"n":9007199254740991,"m":-9007199254740991,"f":0.1,"g":1e15,"h":-0.0}"#,
            r#"{"n":9007199254740991.0}"#,
        ] {
            assert!(parse_command(&body(fine), "m").is_ok(), "{fine}");
        }
    }

    #[test]
    fn invisible_characters_are_refused_by_code_point() {
        for (field, c) in [
            ("aggregateId", '\u{202E}'),
            ("aggregateId", '\u{200B}'),
            ("aggregateId", '\u{2066}'),
            ("aggregateId", '\u{FEFF}'),
            ("aggregateId", '\u{2028}'),
            ("aggregateId", '\u{E0041}'),
            ("command", '\u{200D}'),
            ("commandId", '\u{200F}'),
            ("commandId", '\u{00AD}'),
        ] {
            let mut body = serde_json::json!({
                "aggregateType": "order", "aggregateId": "o", "command": "C", "commandId": "c",
            });
            body[field] = Value::String(format!("SECRET{c}x"));
            let reason = reason(&body.to_string());
            let want = format!("`{field}` contains U+{:04X}, ", u32::from(c));
            assert!(reason.contains(&want), "{reason}");
            assert!(
                !reason.contains("SECRET") && !reason.contains(c),
                "{reason}"
            );
        }
        // In a type too (which is ASCII only anyway).
        assert!(
            reason(r#"{"aggregateType":"or\u202Eder","aggregateId":"o","command":"C"}"#)
                .contains("`aggregateType` contains U+202E")
        );
        // Visible non-ASCII stays allowed.
        assert!(
            parse_command(
                r#"{"aggregateType":"t","aggregateId":"tïckét-✓-🎫","command":"C"}"#,
                "m"
            )
            .is_ok()
        );
    }

    #[test]
    fn reasons_never_quote_values() {
        let secret = "SECRET";
        for (body, want) in [
            (
                r#"{"aggregateType":"SECRET","aggregateId":5,"command":"C"}"#,
                "aggregateId: invalid type: integer, expected a string",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","expectedVersion":"SECRET"}"#,
                "expectedVersion: invalid type: string, expected a non-negative integer",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","expectedVersion":-424242}"#,
                "expectedVersion: invalid value: a negative integer",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","expectedVersion":4242.5}"#,
                "expectedVersion: invalid type: floating point",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":["SECRET"]}"#,
                "command: invalid type: sequence",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","commandId":true}"#,
                "commandId: invalid type: boolean",
            ),
            (
                r#"{"aggregateType":null,"aggregateId":"o","command":"C"}"#,
                "aggregateType: invalid type: null",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","payload":{"k":"SECRET"},"x":"SECRET"}"#,
                "unknown field `x`",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","payload":{"k":"SECRET"#,
                "EOF while parsing",
            ),
            (
                r#"{"aggregateType":"t","aggregateId":"o","command":"C","payload":{"k":SECRET}}"#,
                "expected value at line 1",
            ),
        ] {
            let got = reason(body);
            assert!(got.contains(want), "{body}: {got}");
            for value in [secret, "424242", "4242.5", "true"] {
                assert!(!got.contains(value), "{body}: {got}");
            }
        }
        // An unknown member is named by its key, escaped and cut.
        let got = reason(&format!(
            r#"{{"aggregateType":"t","aggregateId":"o","command":"C","a\n\u202e{}":1}}"#,
            "k".repeat(100)
        ));
        assert!(got.contains(r"unknown field `a\u{a}\u{202e}kkk"), "{got}");
        assert!(
            got.contains("k…`") && !got.contains('\n') && !got.contains('\u{202e}'),
            "{got}"
        );
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
