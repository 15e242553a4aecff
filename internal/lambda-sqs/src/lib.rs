//! Lambda's SQS face: turns the event Lambda passes the function
//! ([`SqsEvent`]) into the core's [`Batch`], and the core's [`BatchReport`]
//! into the [`SqsBatchResponse`] of `ReportBatchItemFailures` (docs/reference.md §5).
//! Used by the Lambda binary and by `cmdctl process`, so both read events the
//! same way.
//!
//! [`handle_event`] is the whole Lambda function body, so the binary only
//! builds clients and calls `lambda_runtime::run`, and tests call it directly
//! with `Context::default()`.
//!
//! What it may depend on: the engines it drives (`handler-core`,
//! `batch-handler`) and the Lambda crates (event types, runtime); no AWS
//! client and no other adapter.
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

use batch_handler::Handler;
use handler_core::{Batch, BatchReport, ConfigSource, EventStore, FailureLog, InboundMessage};
use lambda_runtime::{Context, LambdaEvent};

/// The event file or payload is not an SQS event.
#[derive(Debug, thiserror::Error)]
#[error("not a Lambda SQS event")]
pub struct EventError(#[from] serde_json::Error);

/// Parses the JSON Lambda passes the function.
pub fn parse_event(json: &str) -> Result<SqsEvent, EventError> {
    Ok(serde_json::from_str(json)?)
}

/// The batch of an event: every record that has a `messageId`, in order.
/// A record without one cannot be named in the answer, so it is not run
/// here; [`respond`] makes Lambda retry the whole batch instead (see
/// [`unidentified`]). A record without a body is handled as an empty one
/// (refused as malformed).
pub fn to_batch(event: &SqsEvent) -> Batch {
    let fifo = event.records.iter().any(|r| {
        r.event_source_arn
            .as_deref()
            .is_some_and(|a| a.ends_with(".fifo"))
    });
    let messages = event
        .records
        .iter()
        .filter_map(|r| {
            Some(InboundMessage {
                message_id: r.message_id.clone()?,
                body: r.body.clone().unwrap_or_default(),
                message_group_id: r.attributes.get("MessageGroupId").cloned(),
                receive_count: r
                    .attributes
                    .get("ApproximateReceiveCount")
                    .and_then(|c| c.parse().ok()),
            })
        })
        .collect();
    Batch {
        messages,
        fifo,
        deadline: None,
    }
}

/// How many records of the event have no `messageId` (Lambda always sends
/// one; this guards against a malformed event).
pub fn unidentified(event: &SqsEvent) -> usize {
    event
        .records
        .iter()
        .filter(|r| r.message_id.is_none())
        .count()
}

/// The answer for an event and its report: exactly the failed messages, plus,
/// when the event held records without a `messageId`, one failure with an
/// empty identifier. Lambda takes that as a failure of the whole batch and
/// delivers every record again, so such a record is never dropped; the
/// messages that were applied come back as duplicates and write nothing.
pub fn respond(event: &SqsEvent, report: &BatchReport) -> SqsBatchResponse {
    let mut response = to_response(report);
    let missing = unidentified(event);
    if missing > 0 {
        tracing::error!(
            records = missing,
            "records without a messageId: the whole batch is reported failed"
        );
        let mut failure = BatchItemFailure::default();
        failure.item_identifier = String::new();
        response.batch_item_failures.push(failure);
    }
    response
}

/// The answer for Lambda: exactly the failed messages.
fn to_response(report: &BatchReport) -> SqsBatchResponse {
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
pub async fn handle_event<S: EventStore + FailureLog, C: ConfigSource>(
    handler: &Handler<S, C>,
    event: LambdaEvent<SqsEvent>,
) -> SqsBatchResponse {
    let mut batch = to_batch(&event.payload);
    batch.deadline = deadline(&event.context);
    respond(&event.payload, &handler.handle(batch).await)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    use super::*;

    /// An arbitrary JSON value, with the event's own words among the keys.
    fn json_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            3 => prop::sample::select(vec![
                "Records", "messageId", "body", "attributes", "eventSourceARN",
                "MessageGroupId", "ApproximateReceiveCount", "messageAttributes",
            ])
            .prop_map(str::to_owned),
            1 => any::<String>(),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
                .map(Value::Number)),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map(key.clone(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// One record of the right shape, each part present or not.
    #[derive(Debug, Clone)]
    struct Record {
        message_id: Option<String>,
        body: Option<String>,
        attributes: Option<BTreeMap<String, String>>,
        arn: Option<String>,
    }

    fn record() -> impl Strategy<Value = Record> {
        let attributes = prop::collection::btree_map(
            prop_oneof![
                Just("MessageGroupId".to_owned()),
                Just("ApproximateReceiveCount".to_owned()),
                Just("SentTimestamp".to_owned()),
                any::<String>(),
            ],
            prop_oneof![any::<String>(), (0..100u32).prop_map(|n| n.to_string())],
            0..4,
        );
        (
            prop::option::weighted(0.9, any::<String>()),
            prop::option::weighted(0.9, any::<String>()),
            prop::option::of(attributes),
            prop::option::of(prop_oneof![
                Just("arn:aws:sqs:eu-west-1:123456789012:q".to_owned()),
                Just("arn:aws:sqs:eu-west-1:123456789012:q.fifo".to_owned()),
                any::<String>(),
            ]),
        )
            .prop_map(|(message_id, body, attributes, arn)| Record {
                message_id,
                body,
                attributes,
                arn,
            })
    }

    fn to_json(records: &[Record]) -> String {
        let records: Vec<Value> = records
            .iter()
            .map(|r| {
                let mut m = Map::new();
                if let Some(id) = &r.message_id {
                    m.insert("messageId".into(), id.clone().into());
                }
                if let Some(body) = &r.body {
                    m.insert("body".into(), body.clone().into());
                }
                if let Some(a) = &r.attributes {
                    m.insert("attributes".into(), json!(a));
                }
                if let Some(arn) = &r.arn {
                    m.insert("eventSourceARN".into(), arn.clone().into());
                }
                Value::Object(m)
            })
            .collect();
        json!({ "Records": records }).to_string()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(384))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_event(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn arbitrary_json_never_panics(value in json_value(), wrap in any::<bool>()) {
            let value = if wrap { json!({ "Records": value }) } else { value };
            if let Ok(event) = parse_event(&value.to_string()) {
                prop_assert_eq!(
                    to_batch(&event).messages.len() + unidentified(&event),
                    event.records.len()
                );
            }
        }

        #[test]
        fn every_identified_record_of_an_event_becomes_one_message(
            records in prop::collection::vec(record(), 0..12),
        ) {
            let event = parse_event(&to_json(&records));
            prop_assert!(event.is_ok(), "{:?}", event.err());
            let event = event.unwrap();
            let batch = to_batch(&event);
            let identified: Vec<_> = records.iter().filter(|r| r.message_id.is_some()).collect();
            prop_assert_eq!(batch.messages.len(), identified.len());
            let unnamed = records.len() - identified.len();
            prop_assert_eq!(unidentified(&event), unnamed);
            // The answer names every failed message, plus one empty id (a
            // whole-batch failure) exactly when a record had no id.
            let report = handler_core::BatchReport::default();
            let response = respond(&event, &report);
            prop_assert_eq!(response.batch_item_failures.len(), usize::from(unnamed > 0));
            prop_assert_eq!(
                batch.fifo,
                records.iter().any(|r| r.arn.as_deref().is_some_and(|a| a.ends_with(".fifo")))
            );
            for (r, m) in identified.into_iter().zip(&batch.messages) {
                prop_assert_eq!(Some(&m.message_id), r.message_id.as_ref());
                prop_assert_eq!(&m.body, r.body.as_deref().unwrap_or_default());
                let attr = |k: &str| r.attributes.as_ref().and_then(|a| a.get(k)).cloned();
                prop_assert_eq!(&m.message_group_id, &attr("MessageGroupId"));
                prop_assert_eq!(
                    m.receive_count,
                    attr("ApproximateReceiveCount").and_then(|c| c.parse().ok())
                );
            }
        }
    }
}
