//! Lambda's SQS face: turns the event Lambda passes the function
//! ([`SqsEvent`]) into the core's [`Batch`], and the core's [`BatchReport`]
//! into the [`SqsBatchResponse`] of `ReportBatchItemFailures` (CONTRACT §5).
//! Used by the Lambda binary and by `cmdctl process`, so both read events the
//! same way.
//!
//! [`handle_event`] is the whole Lambda function body, so the binary only
//! builds clients and calls `lambda_runtime::run`, and tests call it directly
//! with `Context::default()`.
//!
//! Depends on `handler-core`, `aws_lambda_events` (types only, `sqs`
//! feature) and `lambda_runtime` (its `LambdaEvent`/`Context`); no AWS client.
//!
//! ```
//! let event = lambda_sqs::parse_event(r#"{"Records":[{"messageId":"m-1","body":"{}",
//!     "eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:orders.fifo",
//!     "attributes":{"MessageGroupId":"order#o-1"}}]}"#).unwrap();
//! let batch = lambda_sqs::to_batch(&event);
//! assert!(batch.fifo);
//! assert_eq!(batch.messages[0].message_group_id.as_deref(), Some("order#o-1"));
//! ```
#![forbid(unsafe_code)]

pub use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use handler_core::{Batch, BatchReport, ConfigSource, EventStore, Handler, InboundMessage};
use lambda_runtime::{Context, LambdaEvent};

/// The event file or payload is not an SQS event.
#[derive(Debug, thiserror::Error)]
#[error("not a Lambda SQS event")]
pub struct EventError(#[from] serde_json::Error);

/// Parses the JSON Lambda passes the function.
pub fn parse_event(json: &str) -> Result<SqsEvent, EventError> {
    Ok(serde_json::from_str(json)?)
}

/// The batch of an event. A record without a `messageId` cannot be reported
/// back; it gets a stand-in id (`missing-message-id-N`) so it is still
/// refused on its own, and a record without a body is handled as an empty one.
pub fn to_batch(event: &SqsEvent) -> Batch {
    let fifo = event.records.iter().any(|r| {
        r.event_source_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(".fifo"))
    });
    let messages = event
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| InboundMessage {
            message_id: r
                .message_id
                .clone()
                .unwrap_or_else(|| format!("missing-message-id-{i}")),
            body: r.body.clone().unwrap_or_default(),
            message_group_id: r.attributes.get("MessageGroupId").cloned(),
            receive_count: r
                .attributes
                .get("ApproximateReceiveCount")
                .and_then(|c| c.parse().ok()),
        })
        .collect();
    Batch {
        messages,
        fifo,
        deadline: None,
    }
}

/// The answer for Lambda: exactly the failed messages.
pub fn to_response(report: &BatchReport) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for id in report.failed_message_ids() {
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = id;
        response.batch_item_failures.push(failure);
    }
    response
}

/// The Lambda function: runs the batch with the invocation's deadline and
/// answers with exactly the failed messages.
pub async fn handle_event<S: EventStore, C: ConfigSource>(
    handler: &Handler<S, C>,
    event: LambdaEvent<SqsEvent>,
) -> SqsBatchResponse {
    let mut batch = to_batch(&event.payload);
    batch.deadline = deadline(&event.context);
    to_response(&handler.handle(batch).await)
}

/// The invocation's deadline as an [`Instant`]; `None` when the context has
/// none (0, as in `Context::default()`).
pub fn deadline(context: &Context) -> Option<Instant> {
    if context.deadline == 0 {
        return None;
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(context.deadline);
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(Instant::now() + left)
}
