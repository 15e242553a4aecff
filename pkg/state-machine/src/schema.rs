//! A transition's `payloadSchema`, compiled once as JSON Schema draft 2020-12.
//!
//! The `jsonschema` crate is built without its default features, so remote
//! `$ref`s are never fetched: a schema that needs one does not compile.

use serde_json::{Map, Value};

/// At most this many schema errors are reported for one payload.
const MAX_ERRORS: usize = 10;
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
        jsonschema::draft202012::new(schema)
            .map(|validator| Self {
                validator,
                schema: schema.clone(),
            })
            .map_err(|err| {
                let message = shorten(err.to_string());
                match err.instance_path().as_str() {
                    "" => format!("does not compile as JSON Schema (draft 2020-12): {message}"),
                    at => {
                        format!(
                            "does not compile as JSON Schema (draft 2020-12): at {at}: {message}"
                        )
                    }
                }
            })
    }

    /// Validates `payload` as a JSON object; every error is `"<instance path>: <what the
    /// schema requires>"`, the root written `/`. Empty when the payload is valid.
    ///
    /// The messages quote the schema, never the payload: they end up in logs,
    /// and payloads may hold personal data.
    pub(crate) fn errors(&self, payload: &Map<String, Value>) -> Vec<String> {
        let instance = Value::Object(payload.clone());
        let mut errors = Vec::new();
        let mut more = 0_usize;
        for err in self.validator.iter_errors(&instance) {
            if errors.len() == MAX_ERRORS {
                more += 1;
                continue;
            }
            let path = match err.instance_path().as_str() {
                "" => "/",
                path => path,
            };
            errors.push(format!(
                "{path}: {}",
                self.describe(err.schema_path().as_str())
            ));
        }
        if more > 0 {
            errors.push(format!("... and {more} more"));
        }
        errors
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
