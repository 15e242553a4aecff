//! The input of `cmdctl ingest`: one JSON event (as EventBridge delivers it
//! to a queue), or JSON lines of them, each becoming one message body of
//! one batch, as the rules' SQS target would deliver them.

/// Why an input gives no events.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventLinesError {
    /// Nothing but blank lines.
    #[error("the input holds no event")]
    Empty,
    /// A line that is not one JSON object (named by its number, from 1;
    /// serde's account says where, never what).
    #[error("line {line} is not a JSON object: {reason}")]
    NotAnObject {
        /// Its number, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// The message bodies of `text`: the whole text when it is one JSON object
/// (written over several lines or one), else each non-blank line, which
/// must each be one JSON object. Each body is kept as written: the handler
/// tells an outside event from a command message.
///
/// ```
/// use command_messages::event_lines::bodies;
/// let one = "{\n  \"id\": \"e-1\"\n}\n";
/// assert_eq!(bodies(one).unwrap().len(), 1);
/// let lines = "{\"id\":\"e-1\"}\n\n{\"id\":\"e-2\"}\n";
/// assert_eq!(bodies(lines).unwrap(), ["{\"id\":\"e-1\"}", "{\"id\":\"e-2\"}"]);
/// assert!(bodies("{\"id\":1}\nnot json\n").is_err());
/// ```
///
/// # Errors
/// [`EventLinesError`]: no event, or a line that is not a JSON object.
pub fn bodies(text: &str) -> Result<Vec<String>, EventLinesError> {
    let whole = text.trim();
    if whole.is_empty() {
        return Err(EventLinesError::Empty);
    }
    if let Ok(serde_json::Value::Object(_)) = serde_json::from_str(whole) {
        return Ok(vec![whole.to_owned()]);
    }
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(_)) => out.push(line.to_owned()),
            Ok(_) => {
                return Err(EventLinesError::NotAnObject {
                    line: n + 1,
                    reason: "another JSON value".to_owned(),
                });
            }
            Err(e) => {
                return Err(EventLinesError::NotAnObject {
                    line: n + 1,
                    reason: format!("at column {}: {}", e.column(), category(&e)),
                });
            }
        }
    }
    Ok(out)
}

fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends early",
        _ => "not JSON",
    }
}
