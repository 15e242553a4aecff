//! Message bodies SQS takes: JSON text with the characters SQS refuses
//! escaped.

use serde::Serialize;

/// `value`'s JSON with the characters SQS refuses escaped ([`sqs_safe`]):
/// the body of a command the event processor sends (a reaction, or an
/// alarm on any of its paths; docs/reference.md §1).
///
/// ```
/// let body = command_messages::sqs_text::json_body(&serde_json::json!({"s": "a\u{ffff}"})).unwrap();
/// assert_eq!(body, r#"{"s":"a\uffff"}"#);
/// ```
pub fn json_body(value: &impl Serialize) -> Result<String, serde_json::Error> {
    serde_json::to_string(value).map(|text| sqs_safe(&text))
}

/// True when SQS takes `c` in a message body: #x9, #xA, #xD, #x20 to
/// #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF.
pub fn sqs_allows(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// JSON text with every character SQS refuses written as a JSON escape
/// (`\ufffe`), so that the body is accepted and parses back to the same
/// value. Outside strings JSON text holds only ASCII, and serde_json
/// already escapes control characters inside them, so in practice this
/// rewrites U+FFFE and U+FFFF inside strings; the text is untouched
/// (no copy) when it holds none.
///
/// ```
/// use command_messages::sqs_text::sqs_safe;
/// let text = serde_json::to_string(&serde_json::json!({"s": "a\u{ffff}b\u{fffe}"})).unwrap();
/// let safe = sqs_safe(&text);
/// assert_eq!(safe, r#"{"s":"a\uffffb\ufffe"}"#);
/// let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
/// assert_eq!(back["s"], "a\u{ffff}b\u{fffe}");
/// ```
pub fn sqs_safe(json: &str) -> String {
    if json.chars().all(sqs_allows) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 12);
    for c in json.chars() {
        if sqs_allows(c) {
            out.push(c);
        } else {
            // Only BMP characters are refused: one \uXXXX each.
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        }
    }
    out
}
