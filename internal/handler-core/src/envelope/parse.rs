//! Parsing a body: its top-level members read in the order written, then
//! each envelope field's shape, with reasons of the envelope's own (serde's
//! would quote the offending values).

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{check_aggregate_id, check_aggregate_type, check_text, quote_key};
use super::numbers::check_numbers;
use super::{Command, EnvelopeError, MAX_BODY_BYTES, MAX_COMMAND_BYTES, MAX_COMMAND_ID_BYTES};
use crate::model::AggregateKey;

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

#[cfg(test)]
mod tests {
    use super::super::reason;
    use super::*;

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
