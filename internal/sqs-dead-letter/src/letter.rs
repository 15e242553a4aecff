//! [`DeadLetter`]: one message as found in a dead-letter queue.

use std::collections::HashMap;

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use serde_json::Value;

use command_messages::command_id::with_command_id;
use command_messages::rejection_attributes as attributes;

/// A message received from a DLQ: what identifies it, what it says, and
/// the attributes that explain it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadLetter {
    /// The message id in the DLQ. A redrive policy keeps the source
    /// message's id; a copy made by [`SqsDeadLetters`](crate::SqsDeadLetters)
    /// has a new one and names the source's in `originalMessageId`.
    pub message_id: String,
    /// The receipt handle of the latest receive (what a delete or a
    /// visibility change needs).
    pub receipt_handle: String,
    /// The body, as sent.
    pub body: String,
    /// The message attributes (a rejection copy's reason among them).
    pub message_attributes: HashMap<String, MessageAttributeValue>,
    /// SQS `ApproximateReceiveCount`: every receive counts, on the source
    /// queue and in the DLQ, listings included.
    pub receive_count: Option<u32>,
    /// SQS `SentTimestamp`, epoch milliseconds: when the message was first
    /// sent (a redrive policy keeps it; a rejection copy's is its own).
    pub sent_timestamp_ms: Option<i64>,
    /// SQS `ApproximateFirstReceiveTimestamp`, epoch milliseconds.
    pub first_receive_timestamp_ms: Option<i64>,
    /// The FIFO message group.
    pub message_group_id: Option<String>,
}

/// What a body says about its command, read leniently (the body may be
/// anything a producer sent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFields {
    /// `aggregateType#aggregateId`, when both are strings.
    pub aggregate: Option<String>,
    /// `command`, when a string.
    pub command: Option<String>,
    /// `commandId`, when a string.
    pub command_id: Option<String>,
}

impl DeadLetter {
    /// Reads the SDK's message; `None` without an id or a receipt handle
    /// (SQS always gives both).
    pub fn from_sdk(message: &Message) -> Option<Self> {
        let system = |name: MessageSystemAttributeName| {
            message
                .attributes()
                .and_then(|attributes| attributes.get(&name))
                .cloned()
        };
        let number = |name| system(name).and_then(|v| v.parse::<i64>().ok());
        Some(Self {
            message_id: message.message_id()?.to_owned(),
            receipt_handle: message.receipt_handle()?.to_owned(),
            body: message.body().unwrap_or_default().to_owned(),
            message_attributes: message.message_attributes().cloned().unwrap_or_default(),
            receive_count: system(MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|v| v.parse().ok()),
            sent_timestamp_ms: number(MessageSystemAttributeName::SentTimestamp),
            first_receive_timestamp_ms: number(
                MessageSystemAttributeName::ApproximateFirstReceiveTimestamp,
            ),
            message_group_id: system(MessageSystemAttributeName::MessageGroupId),
        })
    }

    /// A string message attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.message_attributes
            .get(name)
            .and_then(MessageAttributeValue::string_value)
    }

    /// True for a copy made by [`SqsDeadLetters`](crate::SqsDeadLetters).
    pub fn is_rejection_copy(&self) -> bool {
        self.attribute(attributes::REJECTION_CODE).is_some()
            || self.attribute(attributes::ORIGINAL_MESSAGE_ID).is_some()
    }

    /// The message id the handler saw, under which it recorded the
    /// failure: `originalMessageId` when present, else this message's id.
    pub fn original_message_id(&self) -> &str {
        self.attribute(attributes::ORIGINAL_MESSAGE_ID)
            .filter(|id| !id.is_empty())
            .unwrap_or(&self.message_id)
    }

    /// True when `id` is this message's id or its original one.
    pub fn matches(&self, id: &str) -> bool {
        self.message_id == id || self.original_message_id() == id
    }

    /// `SentTimestamp` as RFC 3339 UTC.
    pub fn sent_at(&self) -> Option<String> {
        self.sent_timestamp_ms.and_then(rfc3339)
    }

    /// `ApproximateFirstReceiveTimestamp` as RFC 3339 UTC.
    pub fn first_received_at(&self) -> Option<String> {
        self.first_receive_timestamp_ms.and_then(rfc3339)
    }

    /// The body's aggregate, command and command id, where it has them.
    pub fn body_fields(&self) -> BodyFields {
        let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&self.body) else {
            return BodyFields::default();
        };
        let text = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        BodyFields {
            aggregate: text("aggregateType")
                .zip(text("aggregateId"))
                .map(|(t, i)| format!("{t}#{i}")),
            command: text("command"),
            command_id: text("commandId"),
        }
    }

    /// The body to send back to the source queue: as it is, except that a
    /// JSON object without a `commandId` gets the original message id as
    /// one. The handler used that id as the idempotency key the first
    /// time; written into the body it stays the key although the copy gets
    /// a new message id, so a message redriven twice (an interrupted
    /// redrive) still applies once.
    pub fn redrive_body(&self) -> String {
        with_command_id(&self.body, self.original_message_id()).unwrap_or_else(|| self.body.clone())
    }

    /// The message attributes to send back: all of them, less those a
    /// rejection copy was given.
    pub fn redrive_attributes(&self) -> HashMap<String, MessageAttributeValue> {
        let mut out = self.message_attributes.clone();
        if self.is_rejection_copy() {
            out.retain(|name, _| !attributes::ALL.contains(&name.as_str()));
        }
        out
    }
}

fn rfc3339(epoch_ms: i64) -> Option<String> {
    handler_core::state_machine::Timestamp::from_millisecond(epoch_ms)
        .ok()
        .map(handler_core::rfc3339_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(value: &str) -> MessageAttributeValue {
        MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
            .unwrap()
    }

    fn letter(body: &str, attributes: &[(&str, &str)]) -> DeadLetter {
        let mut message = Message::builder()
            .message_id("dlq-1")
            .receipt_handle("rh")
            .body(body)
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "11")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1700000000123");
        for (name, value) in attributes {
            message = message.message_attributes(*name, string(value));
        }
        DeadLetter::from_sdk(&message.build()).unwrap()
    }

    #[test]
    fn a_moved_message_is_its_own_original() {
        let l = letter(
            r#"{"aggregateType":"order","aggregateId":"o-1","command":"ConfirmOrder","commandId":"c-1"}"#,
            &[("trace", "t-1")],
        );
        assert!(!l.is_rejection_copy());
        assert_eq!(l.original_message_id(), "dlq-1");
        assert_eq!(l.receive_count, Some(11));
        assert_eq!(l.sent_at().as_deref(), Some("2023-11-14T22:13:20.123Z"));
        assert_eq!(
            l.body_fields(),
            BodyFields {
                aggregate: Some("order#o-1".into()),
                command: Some("ConfirmOrder".into()),
                command_id: Some("c-1".into()),
            }
        );
        assert_eq!(l.redrive_body(), l.body);
        assert_eq!(
            l.redrive_attributes().len(),
            1,
            "a producer's attribute stays"
        );
    }

    #[test]
    fn a_rejection_copy_names_its_original_and_loses_its_attributes_on_redrive() {
        let l = letter(
            r#"{"aggregateType":"order","aggregateId":"o-1","command":"ConfirmOrder"}"#,
            &[
                ("rejectionCode", "invalid_transition"),
                ("originalMessageId", "src-1"),
                ("aggregate", "order#o-1"),
            ],
        );
        assert!(l.is_rejection_copy());
        assert_eq!(l.original_message_id(), "src-1");
        assert!(l.matches("src-1") && l.matches("dlq-1") && !l.matches("x"));
        assert!(l.redrive_attributes().is_empty());
        let body: Value = serde_json::from_str(&l.redrive_body()).unwrap();
        assert_eq!(body["commandId"], "src-1", "the original id stays the key");
        assert_eq!(body["command"], "ConfirmOrder");
    }

    #[test]
    fn a_body_that_is_not_an_object_goes_back_as_it_is() {
        for body in ["{not json", "[1]", ""] {
            let l = letter(body, &[]);
            assert_eq!(l.redrive_body(), body);
            assert_eq!(l.body_fields(), BodyFields::default());
        }
        let l = letter(r#"{"commandId":null,"x":1}"#, &[]);
        let body: Value = serde_json::from_str(&l.redrive_body()).unwrap();
        assert_eq!(body["commandId"], "dlq-1");
    }
}
