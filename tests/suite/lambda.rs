//! The Lambda function body (`lambda_sqs::handle_event`) on DynamoDB and S3
//! (moto), called as the runtime calls it, with fixture events and
//! `Context::default()`.

use std::collections::BTreeSet;

use lambda_runtime::{Context, LambdaEvent};
use lambda_sqs::{SqsBatchResponse, SqsEvent, handle_event, parse_event};
use serde_json::json;
use testkit::aws::AwsStack;
use testkit::fixtures;

fn event(name: &str) -> SqsEvent {
    parse_event(&fixtures::read(name)).expect("fixture is an SQS event")
}

/// The message ids a Lambda answer reports as failed.
pub(crate) fn failed(response: &SqsBatchResponse) -> BTreeSet<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

fn ids(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn the_mixed_fixture_reports_exactly_its_failures() {
    let stack = AwsStack::new().await;
    let handler = stack.handler();
    let response = handle_event(
        &handler,
        LambdaEvent::new(event("sqs-event-mixed.json"), Context::default()),
    )
    .await;
    assert_eq!(
        failed(&response),
        ids(&["msg-bad-transition", "msg-bad-schema", "msg-bad-json"])
    );
    // The answer serialises as Lambda expects it.
    let answer = serde_json::to_value(&response).unwrap();
    assert_eq!(answer["batchItemFailures"].as_array().unwrap().len(), 3);
    assert!(answer["batchItemFailures"][0]["itemIdentifier"].is_string());

    // Redelivered whole: nothing new is written, the same three fail.
    let again = handle_event(
        &handler,
        LambdaEvent::new(event("sqs-event-mixed.json"), Context::default()),
    )
    .await;
    assert_eq!(failed(&again), failed(&response));
}

#[tokio::test]
async fn a_success_batch_lands_every_event() {
    let stack = AwsStack::new().await;
    let response = handle_event(
        &stack.handler(),
        LambdaEvent::new(event("sqs-event-success.json"), Context::default()),
    )
    .await;
    assert!(failed(&response).is_empty());
    let key = handler_core::AggregateKey::new("order", "o-success-1");
    let events = handler_core::all_events(&stack.store(), &key)
        .await
        .unwrap();
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "OrderCreated",
            "ItemReserved",
            "PaymentProcessed",
            "OrderConfirmed"
        ]
    );
}

#[tokio::test]
async fn a_fifo_group_stops_at_its_first_failure() {
    let stack = AwsStack::new().await;
    let response = handle_event(
        &stack.handler(),
        LambdaEvent::new(event("sqs-event-fifo.json"), Context::default()),
    )
    .await;
    assert_eq!(failed(&response), ids(&["msg-fifo-1b", "msg-fifo-1c"]));
}

#[tokio::test]
async fn a_near_deadline_attempts_nothing_and_reports_everything() {
    let stack = AwsStack::new().await;
    let mut context = Context::default();
    let in_one_second = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    context.deadline = in_one_second
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let event = event("sqs-event-success.json");
    let all: BTreeSet<String> = event
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    let response = handle_event(&stack.handler(), LambdaEvent::new(event, context)).await;
    assert_eq!(
        failed(&response),
        all,
        "within the 2 s margin: nothing started"
    );
    assert_eq!(stack.dynamo_requests.count("TransactWriteItems"), 0);
    assert_eq!(stack.dynamo_requests.count("PutItem"), 0);
}

/// The cost of a batch: 10 commands over 3 new aggregates are one `Query`
/// per aggregate (its head: none, so no command can be there) and one write
/// per aggregate (a transaction: each has several commands); on aggregates
/// that exist, one `Query` more per command (its id on the `by-command`
/// index, after the head). Configs come from S3 once per type and then from
/// the cache.
#[tokio::test]
async fn a_batch_costs_a_read_per_aggregate_and_command_and_one_write_per_aggregate() {
    let stack = AwsStack::new().await;
    let handler = stack.handler();
    let order = |id: &str, cmd: &str, payload: serde_json::Value| json!({"aggregateType": "order", "aggregateId": id, "command": cmd, "payload": payload});
    let bodies = [
        order("o-1", "CreateOrder", json!({"itemId": "a", "quantity": 1})),
        order("o-2", "CreateOrder", json!({"itemId": "b", "quantity": 2})),
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "OpenTicket",
               "payload": {"title": "x"}}),
        order("o-1", "ReserveItem", json!({})),
        order("o-2", "ReserveItem", json!({})),
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Comment",
               "payload": {"text": "a"}}),
        order(
            "o-1",
            "ProcessPayment",
            json!({"amount": 3, "currency": "EUR"}),
        ),
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Assign",
               "payload": {"assignee": "kim"}}),
        order("o-1", "ConfirmOrder", json!({})),
        order("o-2", "CancelOrder", json!({})),
    ];
    let messages = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| handler_core::InboundMessage::new(format!("m{i}"), b.to_string()))
        .collect();
    let report = handler
        .handle(handler_core::Batch::standard(messages))
        .await;
    assert!(report.failed_message_ids().is_empty(), "{report:#?}");

    let reads = stack.dynamo_requests.count("Query");
    let writes =
        stack.dynamo_requests.count("TransactWriteItems") + stack.dynamo_requests.count("PutItem");
    eprintln!(
        "10 commands / 3 new aggregates: {reads} reads, {writes} writes, DynamoDB requests {:?}",
        stack.dynamo_requests.sent()
    );
    assert_eq!(reads, 3, "reads: a head per aggregate");
    assert_eq!(writes, 3, "writes: one per aggregate");
    assert_eq!(stack.dynamo_requests.count("TransactWriteItems"), 3);
    assert_eq!(stack.dynamo_requests.sent().len(), reads + writes);

    // The same aggregates again: 7 commands over 3 aggregates that exist
    // (refused or not, each command's id is looked up).
    stack.dynamo_requests.reset();
    let again = [
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Comment",
               "payload": {"text": "b"}}),
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Comment",
               "payload": {"text": "c"}}),
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Comment",
               "payload": {"text": "d"}}),
        order("o-1", "ConfirmOrder", json!({})),
        order("o-1", "ConfirmOrder", json!({})),
        order("o-2", "CancelOrder", json!({})),
        order("o-2", "CancelOrder", json!({})),
    ];
    let report = handler
        .handle(handler_core::Batch::standard(
            again
                .iter()
                .enumerate()
                .map(|(i, b)| handler_core::InboundMessage::new(format!("again{i}"), b.to_string()))
                .collect(),
        ))
        .await;
    let reads = stack.dynamo_requests.count("Query");
    let writes =
        stack.dynamo_requests.count("TransactWriteItems") + stack.dynamo_requests.count("PutItem");
    eprintln!("7 commands / 3 existing aggregates: {reads} reads, {writes} writes: {report:?}");
    assert_eq!(
        reads,
        3 + 7,
        "reads: a head per aggregate, then an id per command"
    );
    assert!(writes <= 3, "writes: at most one per aggregate: {writes}");
    // The orders are past these commands: their refusals are recorded.
    let failures = stack.dynamo_requests.count("UpdateItem");
    assert_eq!(report.failed_message_ids().len(), failures);
    assert_eq!(
        stack.dynamo_requests.sent().len(),
        reads + writes + failures
    );
    assert_eq!(
        stack.s3_requests.count("GetObject"),
        2,
        "one per aggregate type"
    );

    stack.s3_requests.reset();
    let next = handler
        .handle(handler_core::Batch::standard(vec![
            handler_core::InboundMessage::new(
                "m10",
                order("o-3", "CreateOrder", json!({"itemId": "c", "quantity": 1})).to_string(),
            ),
        ]))
        .await;
    assert!(next.failed_message_ids().is_empty());
    assert_eq!(
        stack.s3_requests.sent().len(),
        0,
        "configs served from the cache"
    );
}
