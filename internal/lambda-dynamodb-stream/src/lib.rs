//! Lambda's DynamoDB stream face for the event processor
//! (docs/reference.md §8): the stream event Lambda passes the function,
//! read with `aws_lambda_events` (`dynamodb` feature), becomes the
//! processor's [`SourceRecord`]s ([`records`]); its [`ProcessReport`]
//! becomes the answer of `ReportBatchItemFailures`: the `SequenceNumber`
//! of the first record not finished, or nothing ([`respond`]).
//!
//! [`handle_event`] is the whole function body, so the binary only builds
//! clients and calls `lambda_runtime::run`, and tests call it directly with
//! records read from the stream and `Context::default()`.
//!
//! What it may depend on: the engine it feeds (`event-processor`), the
//! model (`handler-core`), the AWS-free `dynamodb-layout` (the item's
//! attributes) and the Lambda crates (event types, runtime); no AWS
//! client and no other adapter.
//!
//! ```
//! use event_processor::RecordBody;
//! let event = serde_json::json!({"Records": [{
//!     "eventID": "1", "eventName": "INSERT", "awsRegion": "eu-west-1",
//!     "dynamodb": {"SequenceNumber": "100", "SizeBytes": 10,
//!                  "Keys": {"pk": {"S": "#failure#m-1"}, "sk": {"N": "0"}},
//!                  "NewImage": {"pk": {"S": "#failure#m-1"}, "sk": {"N": "0"}}}}]});
//! let records = lambda_dynamodb_stream::records::source_records(&event).unwrap();
//! assert_eq!(records[0].position, "100");
//! assert!(matches!(records[0].body, RecordBody::NotAnEvent));
//! ```
#![forbid(unsafe_code)]

pub mod records;

pub use aws_lambda_events::event::dynamodb::{Event as StreamEvent, EventRecord};
pub use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use event_processor::{CommandSink, EventProcessor, ProcessReport, Publisher};
use handler_core::{ConfigSource, FailureLog};
use lambda_runtime::LambdaEvent;
use serde_json::Value;

/// The answer for a report: one `batchItemFailures` entry naming the first
/// record not finished (Lambda retries the shard from there), or none.
pub fn respond(report: &ProcessReport) -> DynamoDbEventResponse {
    let mut response = DynamoDbEventResponse::default();
    if let Some(position) = &report.first_unfinished {
        let mut failure = DynamoDbBatchItemFailure::default();
        failure.item_identifier = Some(position.clone());
        response.batch_item_failures.push(failure);
    }
    response
}

/// The function body: read the records, process them, answer.
///
/// An invocation event without `Records` is logged and answered with no
/// failure: there is nothing in it to retry.
pub async fn handle_event<C, P, S, F>(
    processor: &EventProcessor<C, P, S, F>,
    event: LambdaEvent<Value>,
) -> DynamoDbEventResponse
where
    C: ConfigSource,
    P: Publisher,
    S: CommandSink,
    F: FailureLog,
{
    let records = match records::source_records(&event.payload) {
        Ok(records) => records,
        Err(e) => {
            tracing::error!(error = %e, "not a DynamoDB stream event");
            return DynamoDbEventResponse::default();
        }
    };
    let deadline = deadline(event.context.deadline);
    respond(&processor.process_until(records, deadline).await)
}

/// The invocation's deadline (epoch milliseconds in the context) as an
/// [`Instant`]; `None` when the context has none (0).
pub fn deadline(epoch_millis: u64) -> Option<std::time::Instant> {
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
    if epoch_millis == 0 {
        return None;
    }
    let at = UNIX_EPOCH + Duration::from_millis(epoch_millis);
    let left = at
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Some(Instant::now() + left)
}
