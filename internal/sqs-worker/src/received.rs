//! One message as SQS delivered it, and its translation into the core's
//! [`InboundMessage`].

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use handler_core::InboundMessage;

/// A received message: what the handler needs, and what deleting it or
/// reasoning about its redelivery needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// SQS `MessageId`. A message SQS sent without one (never seen) gets the
    /// stand-in `missing-message-id-N`, as in `lambda-sqs`.
    pub message_id: String,
    /// The receipt handle the delete needs; `None` if SQS gave none.
    pub receipt_handle: Option<String>,
    /// The body (a docs/reference.md §1 command message, if the producer behaved).
    pub body: String,
    /// The FIFO `MessageGroupId` system attribute.
    pub message_group_id: Option<String>,
    /// The `ApproximateReceiveCount` system attribute: 1 on first delivery.
    pub receive_count: Option<u32>,
}

impl ReceivedMessage {
    /// Reads the SDK's message; `index` is its position in the receive.
    pub(crate) fn from_sdk(index: usize, message: &Message) -> Self {
        let attribute = |name: &MessageSystemAttributeName| {
            message
                .attributes()
                .and_then(|attributes| attributes.get(name))
                .cloned()
        };
        Self {
            message_id: message
                .message_id()
                .map_or_else(|| format!("missing-message-id-{index}"), str::to_owned),
            receipt_handle: message.receipt_handle().map(str::to_owned),
            body: message.body().unwrap_or_default().to_owned(),
            message_group_id: attribute(&MessageSystemAttributeName::MessageGroupId),
            receive_count: attribute(&MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|count| count.parse().ok()),
        }
    }

    /// The message as the handler takes it.
    pub(crate) fn to_inbound(&self) -> InboundMessage {
        InboundMessage {
            message_id: self.message_id.clone(),
            body: self.body.clone(),
            message_group_id: self.message_group_id.clone(),
            receive_count: self.receive_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_system_attributes_the_handler_needs() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("rh-1")
            .body("{}")
            .attributes(MessageSystemAttributeName::MessageGroupId, "order#o-1")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .build();
        let received = ReceivedMessage::from_sdk(0, &message);
        assert_eq!(received.receive_count, Some(3));
        assert_eq!(received.receipt_handle.as_deref(), Some("rh-1"));
        let inbound = received.to_inbound();
        assert_eq!(inbound.message_id, "m-1");
        assert_eq!(inbound.body, "{}");
        assert_eq!(inbound.message_group_id.as_deref(), Some("order#o-1"));
    }

    #[test]
    fn a_message_without_id_or_attributes_still_has_an_id() {
        let received = ReceivedMessage::from_sdk(4, &Message::builder().build());
        assert_eq!(received.message_id, "missing-message-id-4");
        assert_eq!(received.body, "");
        assert_eq!(received.message_group_id, None);
        assert_eq!(received.receive_count, None);
        assert_eq!(received.receipt_handle, None);
    }
}
