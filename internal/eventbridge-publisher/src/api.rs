//! One `PutEvents` request, behind a trait so that the resend loop can be
//! tested without a network and a test can fail chosen entries.

use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

/// One entry to put, borrowed from its publication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// `Source`: `command-handler.{aggregateType}`.
    pub source: &'a str,
    /// `DetailType`: the event's type.
    pub detail_type: &'a str,
    /// `Detail`: the event as JSON text.
    pub detail: &'a str,
}

/// An entry EventBridge did not accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRefused {
    /// EventBridge's `ErrorCode` (for example `InternalFailure`,
    /// `ThrottlingException`).
    pub code: String,
    /// Its `ErrorMessage`.
    pub message: String,
}

impl std::fmt::Display for EntryRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A `PutEvents` request that failed as a whole (after the SDK's own
/// retries): the SDK's description, the SDK's error its source.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PutEventsError {
    /// The SDK's error described in one line (`Code: message`).
    pub message: String,
    /// The error itself.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// One `PutEvents` request of at most [`MAX_ENTRIES`](crate::MAX_ENTRIES)
/// entries.
#[async_trait]
pub trait PutEventsApi: Send + Sync {
    /// One answer per entry, in order; `Err` when the request failed as a
    /// whole (after the SDK's own retries).
    async fn put_events(
        &self,
        entries: &[Entry<'_>],
    ) -> Result<Vec<Result<(), EntryRefused>>, PutEventsError>;
}

/// `PutEvents` on one bus through the SDK.
#[derive(Debug, Clone)]
pub struct SdkPutEvents {
    client: Client,
    bus: String,
}

impl SdkPutEvents {
    /// Puts on `bus` (a name or ARN; `default` is the account's default bus).
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        Self {
            client,
            bus: bus.into(),
        }
    }
}

#[async_trait]
impl PutEventsApi for SdkPutEvents {
    async fn put_events(
        &self,
        entries: &[Entry<'_>],
    ) -> Result<Vec<Result<(), EntryRefused>>, PutEventsError> {
        let request: Vec<PutEventsRequestEntry> = entries
            .iter()
            .map(|e| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(e.source)
                    .detail_type(e.detail_type)
                    .detail(e.detail)
                    .build()
            })
            .collect();
        let out = self
            .client
            .put_events()
            .set_entries(Some(request))
            .send()
            .await
            .map_err(|e| PutEventsError {
                message: sdk_error::describe(&e),
                source: Box::new(e),
            })?;
        let answers = out.entries();
        Ok((0..entries.len())
            .map(|i| match answers.get(i) {
                Some(answer) => match answer.error_code() {
                    None if answer.event_id().is_some() => Ok(()),
                    code => Err(EntryRefused {
                        code: code.unwrap_or("NoEventId").to_owned(),
                        message: answer.error_message().unwrap_or_default().to_owned(),
                    }),
                },
                None => Err(EntryRefused {
                    code: "NoAnswer".to_owned(),
                    message: "EventBridge gave no result for this entry".to_owned(),
                }),
            })
            .collect())
    }
}
