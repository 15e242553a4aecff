//! A transition's `payloadSchema`, compiled once as JSON Schema draft 2020-12.
//!
//! The `jsonschema` crate is built without its default features, so remote
//! `$ref`s are never fetched: a schema that needs one does not compile.
//!
//! `pattern` and `patternProperties` run on the linear-time `regex` engine,
//! not on jsonschema's default (`fancy-regex`, which backtracks up to a step
//! limit per match): a payload's strings are matched in time linear in their
//! length whatever the pattern, so no config can make validation slow. A
//! pattern that needs backtracking (backreferences such as `\1`, lookahead,
//! lookbehind) does not compile, and the config is refused with the fault
//! naming the transition and the pattern's path in its schema.

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, PatternOptions};
use serde_json::{Map, Value};

/// At most this many schema errors are reported for one payload.
const MAX_ERRORS: usize = 10;
/// A payload whose JSON text is longer than this gets only its first error:
/// jsonschema 0.60 builds every error before its iterator yields one (about
/// 3 µs each, so 270 ms for the 87,000 errors a 256 KiB payload can hold),
/// while its `validate` stops at the first.
const FULL_REPORT_BYTES: usize = 4096;
/// A quoted schema value is cut to this many characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// A compiled payload schema.
#[derive(Debug, Clone)]
pub(crate) struct PayloadSchema {
    validator: jsonschema::Validator,
    schema: Value,
}

impl PayloadSchema {
    /// Compiles `schema`; the error is a message naming what is wrong.
    pub(crate) fn compile(schema: &Value) -> Result<Self, String> {
        jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_pattern_options(PatternOptions::regex())
            .build(schema)
            .map(|validator| Self {
                validator,
                schema: schema.clone(),
            })
            .map_err(|err| {
                let at = match err.instance_path().as_str() {
                    "" => String::new(),
                    at => format!("at {at}: "),
                };
                let message = shorten(err.to_string());
                let why = match err.kind() {
                    ValidationErrorKind::Format { format } if format == "regex" => {
                        "; patterns run on a linear-time engine, which has no backreferences \
                         (`\\1`) and no lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`)"
                    }
                    _ => "",
                };
                format!("does not compile as JSON Schema (draft 2020-12): {at}{message}{why}")
            })
    }

    /// Validates `payload` as a JSON object; every error is `"<instance path>: <what the
    /// schema requires>"`, the root written `/`. Empty when the payload is valid.
    ///
    /// The messages quote the schema, never the payload: they end up in logs,
    /// and payloads may hold personal data.
    pub(crate) fn errors(&self, payload: &Map<String, Value>) -> Vec<String> {
        let instance = Value::Object(payload.clone());
        // The usual case, a valid payload, stops at nothing and builds no error.
        if self.validator.is_valid(&instance) {
            return Vec::new();
        }
        let large = !serde_json::to_string(&instance).is_ok_and(|t| t.len() <= FULL_REPORT_BYTES);
        if large {
            let Err(first) = self.validator.validate(&instance) else {
                return Vec::new();
            };
            return vec![
                self.line(&first),
                format!(
                    "... (only the first error is listed for a payload over {FULL_REPORT_BYTES} bytes)"
                ),
            ];
        }
        let mut errors: Vec<String> = self
            .validator
            .iter_errors(&instance)
            .take(MAX_ERRORS + 1)
            .map(|err| self.line(&err))
            .collect();
        if errors.len() > MAX_ERRORS {
            errors.truncate(MAX_ERRORS);
            errors.push("... and more".to_owned());
        }
        errors
    }

    /// `"<instance path>: <what the schema requires>"`, the root written `/`.
    fn line(&self, err: &jsonschema::ValidationError<'_>) -> String {
        let path = match err.instance_path().as_str() {
            "" => "/",
            path => path,
        };
        format!("{path}: {}", self.describe(err.schema_path().as_str()))
    }

    /// What the schema keyword at `schema_path` asks for, from the schema alone.
    fn describe(&self, schema_path: &str) -> String {
        let keyword = schema_path.rsplit('/').next().unwrap_or_default();
        match self.schema.pointer(schema_path) {
            Some(Value::Array(names)) if keyword == "required" => {
                let names: Vec<String> = names.iter().map(Value::to_string).collect();
                format!("must have the required properties {}", names.join(", "))
            }
            Some(Value::Bool(false)) if keyword == "additionalProperties" => {
                "has a property the schema does not allow".to_owned()
            }
            Some(value) if !value.is_object() => {
                format!("must satisfy {keyword} = {}", shorten(value.to_string()))
            }
            _ => format!("must satisfy `{keyword}` (schema {schema_path})"),
        }
    }
}

fn shorten(mut message: String) -> String {
    if let Some((cut, _)) = message.char_indices().nth(MAX_MESSAGE_CHARS) {
        message.truncate(cut);
        message.push_str("...");
    }
    message
}
