//! The attributes of the items an append writes, one list per item:
//!
//! | item | `pk` | `sk` | other attributes |
//! | --- | --- | --- | --- |
//! | event | `{type}#{id}` | version ≥ 1 | eventType, state, payload, commandId, metadata, recordedAt, configVersion |
//! | head (snapshot) | `{type}#{id}` | 0 | itemType=`head`, aggregateType, aggregateId, headType, headId, state, version, data, updatedAt |
//! | command record | `#cmd#{commandId}` | 0 | itemType=`command`, aggregateType, aggregateId, fingerprint, version, recordedAt, expiresAt (TTL) |
//!
//! Only heads carry `headType`/`headId`, the keys of the store's sparse
//! listing index. `payload`, `metadata` and `data` are JSON text.

use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, CommandRecord, Event};
use serde_json::{Map, Value};

/// One attribute's value: a string (`S`) or a whole number (`N`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue<'a> {
    /// A string, borrowed from the record where it can be.
    S(std::borrow::Cow<'a, str>),
    /// A whole number.
    N(u64),
}

/// An item: its attributes' names and values.
pub type Attributes<'a> = Vec<(&'static str, AttrValue<'a>)>;

/// The TTL attribute of command (and failure) records.
pub const TTL_ATTRIBUTE: &str = "expiresAt";

/// The partition key of an aggregate's events and head.
pub fn aggregate_pk(key: &AggregateKey) -> String {
    key.to_string()
}

/// The partition key of a command record.
pub fn command_pk(command_id: &str) -> String {
    format!("#cmd#{command_id}")
}

/// An event's item.
pub fn event_item<'a>(key: &AggregateKey, event: &'a Event) -> Attributes<'a> {
    vec![
        ("pk", owned(aggregate_pk(key))),
        ("sk", AttrValue::N(event.version)),
        ("eventType", borrowed(&event.event_type)),
        ("state", borrowed(&event.state)),
        ("payload", owned(json_text(&event.payload))),
        ("commandId", borrowed(&event.command_id)),
        ("metadata", owned(json_text(&event.metadata))),
        ("recordedAt", borrowed(&event.recorded_at)),
        ("configVersion", AttrValue::N(event.config_version)),
    ]
}

/// An aggregate's head (snapshot) item, which holds the key three times.
pub fn head_item<'a>(
    key: &'a AggregateKey,
    head: &'a AggregateState,
    updated_at: &'a str,
) -> Attributes<'a> {
    vec![
        ("pk", owned(aggregate_pk(key))),
        ("sk", AttrValue::N(0)),
        ("itemType", borrowed("head")),
        ("aggregateType", borrowed(&key.aggregate_type)),
        ("aggregateId", borrowed(&key.aggregate_id)),
        ("headType", borrowed(&key.aggregate_type)),
        ("headId", borrowed(&key.aggregate_id)),
        ("state", borrowed(&head.state)),
        ("version", AttrValue::N(head.version)),
        ("data", owned(json_text(&head.data))),
        ("updatedAt", borrowed(updated_at)),
    ]
}

/// A command's idempotency record, kept until `expires_at` (epoch seconds).
pub fn command_item(record: &CommandRecord, expires_at: u64) -> Attributes<'_> {
    vec![
        ("pk", owned(command_pk(&record.command_id))),
        ("sk", AttrValue::N(0)),
        ("itemType", borrowed("command")),
        ("aggregateType", borrowed(&record.key.aggregate_type)),
        ("aggregateId", borrowed(&record.key.aggregate_id)),
        ("fingerprint", borrowed(&record.fingerprint)),
        ("version", AttrValue::N(record.version)),
        ("recordedAt", borrowed(&record.recorded_at)),
        (TTL_ATTRIBUTE, AttrValue::N(expires_at)),
    ]
}

/// A JSON object as the items hold it.
pub fn json_text(map: &Map<String, Value>) -> String {
    Value::Object(map.clone()).to_string()
}

fn borrowed(text: &str) -> AttrValue<'_> {
    AttrValue::S(text.into())
}

fn owned(text: String) -> AttrValue<'static> {
    AttrValue::S(text.into())
}
