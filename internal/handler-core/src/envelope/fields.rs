//! The envelope's text fields: the aggregate type (a file name and a key
//! part), the aggregate id, the command and its id; none may hold control or
//! invisible characters. And how a member's key is shown in a reason:
//! escaped and cut, never raw.

use unicode_general_category::{GeneralCategory, get_general_category};

use super::{EnvelopeError, MAX_AGGREGATE_ID_BYTES, MAX_AGGREGATE_TYPE_BYTES};

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

/// True when `text` holds a control character or an invisible one (a
/// format character such as a bidi control, or a line or paragraph
/// separator): what the envelope refuses in its ids, and what the HTTP API
/// refuses in a header or a path.
///
/// ```
/// use handler_core::envelope::has_hidden_characters;
/// assert!(has_hidden_characters("order\u{202e}-42"));
/// assert!(has_hidden_characters("a\tb"));
/// assert!(!has_hidden_characters("order-42"));
/// ```
pub fn has_hidden_characters(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() || invisible(c).is_some())
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
pub(super) fn pointer_token(key: &str) -> String {
    shown_key(&key.replace('~', "~0").replace('/', "~1"))
}

/// An unknown member's name, in backticks, shown as [`shown_key`] does.
pub(super) fn quote_key(key: &str) -> String {
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

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::reason;
    use crate::envelope::parse_command;

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
}
