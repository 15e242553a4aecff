//! Writing a `commandId` into a command body that has none, so that the
//! idempotency key travels with the body instead of being the SQS message
//! id (which a redrive, a move task or a re-sent file changes).

use serde_json::Value;

/// `body` with `commandId` set to `id` when it is a JSON object without
/// one (absent or `null`); the body unchanged when it has one; `None` when
/// it is not a JSON object (no command can be read from it anyway).
///
/// When the field is absent it is written in front of the others and every
/// other byte of the body stays as it was, so numbers and key order are
/// exactly the producer's; a `null` one is replaced by re-serializing the
/// object.
///
/// ```
/// use command_messages::command_id::with_command_id;
/// assert_eq!(
///     with_command_id(r#"{"command":"C","payload":{"n":1.0}}"#, "m-1").as_deref(),
///     Some(r#"{"commandId":"m-1","command":"C","payload":{"n":1.0}}"#)
/// );
/// assert_eq!(with_command_id(" {} ", "m-1").as_deref(), Some(r#"{"commandId":"m-1"} "#));
/// assert_eq!(with_command_id(r#"{"commandId":"c-1"}"#, "m-1").as_deref(), Some(r#"{"commandId":"c-1"}"#));
/// assert_eq!(with_command_id("[1]", "m-1"), None);
/// ```
pub fn with_command_id(body: &str, id: &str) -> Option<String> {
    let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    match object.get("commandId") {
        Some(Value::Null) => {
            object.insert("commandId".to_owned(), Value::String(id.to_owned()));
            Some(Value::Object(object).to_string())
        }
        Some(_) => Some(body.to_owned()),
        None => {
            // A JSON object's text starts with `{` after optional whitespace.
            let open = body.find('{')?;
            let rest = &body[open + 1..];
            let separator = if object.is_empty() { "" } else { "," };
            let id = Value::String(id.to_owned());
            Some(format!("{{\"commandId\":{id}{separator}{rest}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_written_in_and_the_rest_kept_byte_for_byte() {
        let body = "\n { \"aggregateType\" : \"order\", \"payload\": {\"big\": 123456789012345678901234567890} }";
        let out = with_command_id(body, "id-\"quoted\"").unwrap();
        assert!(out.ends_with(&body[body.find('{').unwrap() + 1..]), "{out}");
        let parsed: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed["commandId"], "id-\"quoted\"");
        assert_eq!(parsed["aggregateType"], "order");
        let null = with_command_id(r#"{"commandId":null,"x":1}"#, "m").unwrap();
        let parsed: Value = serde_json::from_str(&null).unwrap();
        assert_eq!(
            (parsed["commandId"].as_str(), parsed["x"].as_i64()),
            (Some("m"), Some(1))
        );
        for not_an_object in ["", "{not json", "[1]", "\"s\"", "{} {}"] {
            assert_eq!(with_command_id(not_an_object, "m"), None, "{not_an_object}");
        }
    }
}
