//! One message to send, and one `SendMessageBatch` request.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::SdkError;
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

/// A message to put on a queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The body, sent as it is.
    pub body: String,
    /// Message attributes (none by default).
    pub attributes: HashMap<String, MessageAttributeValue>,
    /// On a FIFO queue: the message group and the deduplication id.
    pub fifo: Option<FifoIds>,
    /// `DelaySeconds` (0 to `command_messages::MAX_DELAY_SECONDS`): the message stays
    /// hidden this long. Standard queues only: a FIFO queue takes no delay
    /// per message.
    pub delay_seconds: Option<u32>,
}

/// What a FIFO queue needs with each message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FifoIds {
    /// `MessageGroupId`: messages of one group arrive in order.
    pub group: String,
    /// `MessageDeduplicationId`: a second send within SQS's deduplication
    /// window queues nothing.
    pub deduplication: String,
}

impl Outgoing {
    /// A message with this body, no attributes, no FIFO ids.
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            attributes: HashMap::new(),
            fifo: None,
            delay_seconds: None,
        }
    }

    /// Hidden for `seconds` after it is sent (at most
    /// `command_messages::MAX_DELAY_SECONDS`; SQS refuses more, and refuses any delay on a
    /// FIFO queue).
    pub fn with_delay(mut self, seconds: u32) -> Self {
        self.delay_seconds = Some(seconds);
        self
    }

    /// With the FIFO group and deduplication id.
    pub fn in_group(mut self, group: impl Into<String>, deduplication: impl Into<String>) -> Self {
        self.fifo = Some(FifoIds {
            group: group.into(),
            deduplication: deduplication.into(),
        });
        self
    }

    /// With a `String` message attribute; an empty value is left out (SQS
    /// refuses it).
    pub fn with_attribute(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if value.is_empty() {
            return self;
        }
        if let Ok(attribute) = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(value)
            .build()
        {
            self.attributes.insert(name.to_owned(), attribute);
        }
        self
    }

    fn entry(&self, index: usize) -> Result<SendMessageBatchRequestEntry, String> {
        let mut entry = SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(&self.body)
            .set_message_attributes(Some(self.attributes.clone()).filter(|a| !a.is_empty()))
            .set_delay_seconds(self.delay_seconds.and_then(|s| i32::try_from(s).ok()));
        if let Some(fifo) = &self.fifo {
            entry = entry
                .message_group_id(&fifo.group)
                .message_deduplication_id(&fifo.deduplication);
        }
        entry.build().map_err(|e| e.to_string())
    }
}

/// An entry SQS (or the SDK, before sending) refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the messages given.
    pub index: usize,
    /// SQS's error code (empty when the entry could not be built).
    pub code: String,
    /// What SQS said.
    pub message: String,
    /// True when the entry itself is at fault (`SenderFault`, or it could
    /// not be built): sending it again cannot help.
    pub permanent: bool,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

/// SQS's answer to one `SendMessageBatch`, by index into the messages given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchAnswer {
    /// Accepted: (index, the new message's id).
    pub sent: Vec<(usize, String)>,
    /// Refused.
    pub refused: Vec<Refused>,
}

/// Sends `messages` (at most 10, `command_messages::chunking::MAX_BATCH`;
/// split longer lists with `command_messages::chunking::batches`) in one
/// `SendMessageBatch`. Fails when the request fails as a whole.
pub async fn send_batch(
    client: &Client,
    queue_url: &str,
    messages: &[Outgoing],
) -> Result<BatchAnswer, SdkError<SendMessageBatchError, HttpResponse>> {
    let mut answer = BatchAnswer::default();
    let mut entries = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        match message.entry(index) {
            Ok(entry) => entries.push(entry),
            Err(message) => answer.refused.push(Refused {
                index,
                code: String::new(),
                message,
                permanent: true,
            }),
        }
    }
    if entries.is_empty() {
        return Ok(answer);
    }
    let out = client
        .send_message_batch()
        .queue_url(queue_url)
        .set_entries(Some(entries))
        .send()
        .await?;
    for ok in out.successful() {
        if let Ok(index) = ok.id().parse::<usize>() {
            answer.sent.push((index, ok.message_id().to_owned()));
        }
    }
    for failed in out.failed() {
        if let Ok(index) = failed.id().parse::<usize>() {
            answer.refused.push(Refused {
                index,
                code: failed.code().to_owned(),
                message: failed.message().unwrap_or_default().to_owned(),
                permanent: failed.sender_fault(),
            });
        }
    }
    Ok(answer)
}
