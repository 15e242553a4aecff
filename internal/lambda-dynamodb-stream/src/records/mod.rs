//! Stream records to the processor's [`SourceRecord`]s: the position is the
//! record's `SequenceNumber`; an inserted or modified item whose key is an
//! event's (`sk` ≥ 1) and that has an `eventType` is an event, read with
//! `dynamodb-layout`'s one parse; every other record (a failure record, a
//! checkpoint, a removal) is not an event; an event item that cannot be
//! read is malformed, with the reason naming the attribute.
//!
//! Each record is parsed on its own, so that one record Lambda's types
//! cannot read is reported as malformed and the others go on.

use aws_lambda_events::event::dynamodb::EventRecord;
use dynamodb_layout::items::attr;
use dynamodb_layout::read::{self, BadAttribute, ItemAttributes};
use event_processor::{RecordBody, SourceRecord};
use handler_core::StoredEvent;
use serde_dynamo::{AttributeValue, Item};
use serde_json::Value;

/// A stream record's image as the layout reads items.
struct Image<'a>(&'a Item);

impl ItemAttributes for Image<'_> {
    fn string(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(AttributeValue::S(v)) => Some(v),
            _ => None,
        }
    }

    fn number(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(AttributeValue::N(v)) => Some(v),
            _ => None,
        }
    }
}

/// The event Lambda passed has no `Records` list: it is not a stream event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAStreamEvent;

impl std::fmt::Display for NotAStreamEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the invocation event has no `Records` list")
    }
}

impl std::error::Error for NotAStreamEvent {}

/// Every record of a Lambda DynamoDB stream event, in order.
pub fn source_records(event: &Value) -> Result<Vec<SourceRecord>, NotAStreamEvent> {
    let records = event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or(NotAStreamEvent)?;
    Ok(records.iter().map(source_record_of_json).collect())
}

/// One record as Lambda sends it (JSON).
pub fn source_record_of_json(record: &Value) -> SourceRecord {
    match serde_json::from_value::<EventRecord>(record.clone()) {
        Ok(record) => source_record(&record),
        Err(e) => SourceRecord {
            position: record
                .pointer("/dynamodb/SequenceNumber")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            body: RecordBody::Malformed {
                key: None,
                reason: format!(
                    "not a DynamoDB stream record (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            },
        },
    }
}

/// One record, read.
pub fn source_record(record: &EventRecord) -> SourceRecord {
    SourceRecord {
        position: record.change.sequence_number.clone().unwrap_or_default(),
        body: body(record),
    }
}

fn body(record: &EventRecord) -> RecordBody {
    if !matches!(record.event_name.as_str(), "INSERT" | "MODIFY") {
        return RecordBody::NotAnEvent;
    }
    let keys = Image(&record.change.keys);
    let image = Image(&record.change.new_image);
    if record.change.new_image.is_empty() {
        return if read::is_event(&keys) {
            RecordBody::Malformed {
                key: read::aggregate_key(&keys).ok(),
                reason: "the record has no new image: the stream must carry NEW_IMAGE".into(),
            }
        } else {
            RecordBody::NotAnEvent
        };
    }
    if !read::is_event(&image) || !record.change.new_image.contains_key(attr::EVENT_TYPE) {
        return RecordBody::NotAnEvent;
    }
    match stored_event(&image) {
        Ok(event) => RecordBody::Event(event),
        Err(bad) => RecordBody::Malformed {
            key: read::aggregate_key(&image).ok(),
            reason: bad.to_string(),
        },
    }
}

fn stored_event(image: &Image<'_>) -> Result<StoredEvent, BadAttribute> {
    Ok(StoredEvent {
        key: read::aggregate_key(image)?,
        event: read::event(image)?,
        data: read::data(image)?,
    })
}

#[cfg(test)]
mod tests;
