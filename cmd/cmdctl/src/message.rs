//! The command message cmdctl builds for `exec` and `send`: a CONTRACT §2
//! body from the command line, and the ids it makes up when none is given.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::cli::CommandArgs;

/// The message body (CONTRACT §2), optional fields only when given.
pub(crate) fn body(args: &CommandArgs, command_id: &str) -> Value {
    let mut body = Map::new();
    body.insert("commandId".into(), json!(command_id));
    body.insert("aggregateType".into(), json!(args.aggregate_type));
    body.insert("aggregateId".into(), json!(args.aggregate_id));
    body.insert("command".into(), json!(args.command));
    if let Some(payload) = &args.payload {
        body.insert("payload".into(), Value::Object(payload.clone()));
    }
    if let Some(version) = args.expected_version {
        body.insert("expectedVersion".into(), json!(version));
    }
    if let Some(metadata) = &args.metadata {
        body.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    Value::Object(body)
}

/// `cmdctl-<unix nanos>-<pid>`: unique enough for one operator's commands,
/// and valid as an SQS deduplication id.
pub(crate) fn fresh_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cmdctl-{nanos}-{}", std::process::id())
}
