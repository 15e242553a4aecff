//! Numbers in `payload` and `metadata`: each must be one every JSON reader
//! holds exactly, or the command is refused naming the number's path.

use serde_json::{Map, Value};

use super::EnvelopeError;
use super::fields::pointer_token;

/// The largest magnitude of a number in `payload` or `metadata`: 2^53 − 1.
/// Every JSON reader that holds numbers as doubles (JavaScript, jq, most
/// stream consumers) rounds an integer past it, and serde_json itself rounds
/// one past 2^64, so a larger number is refused rather than silently changed
/// (RFC 7493, I-JSON). Send a larger quantity as a string.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Refuses a number of `object` (at any depth) whose magnitude is over
/// [`MAX_SAFE_INTEGER`], naming its JSON Pointer below `at`.
pub(super) fn check_numbers(at: &str, object: &Map<String, Value>) -> Result<(), EnvelopeError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::parse_command;

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
}
