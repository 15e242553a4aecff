//! The SQS worker end to end, against moto through the real SDK: commands
//! sent to a queue land in DynamoDB as docs/reference.md §3 events, a message that
//! keeps failing reaches the dead-letter queue after exactly ten receives,
//! and a FIFO message group stops at its first failure.
//!
//! Every test makes its own table, bucket and queues; the handler is the
//! production one (`DynamoStore` + `S3ConfigSource` over the repository's
//! configs, uploaded to the test's bucket).

mod harness;

use std::collections::BTreeSet;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use serde_json::{Value, json};
use sqs_worker::{PollStats, Worker};
use store_dynamodb::DynamoStore;
use testkit::moto::unique_name;

use harness::{Aws, command, create, is_rfc3339, n, s};

#[tokio::test]
async fn commands_sent_to_the_queue_land_as_contract_events() {
    let aws = Aws::new().await;
    let (queue, dlq) = aws.queues(30, false).await;
    let created = json!({
        "commandId": unique_name("cmd"),
        "aggregateType": "order",
        "aggregateId": "e2e-1",
        "command": "CreateOrder",
        "payload": { "itemId": "coffee-beans", "quantity": 1 },
        "expectedVersion": 0,
        "metadata": { "correlationId": "c-1" },
    });
    let reserved = command("e2e-1", "ReserveItem", json!({}));
    let other = create("e2e-2");
    for body in [&created, &reserved, &other] {
        aws.send(&queue, body, None).await;
    }

    let stats = aws
        .worker(&queue, 1)
        .run_until_empty()
        .await
        .expect("polls");
    assert_eq!(
        stats,
        PollStats {
            batches: stats.batches,
            received: 3,
            applied: 3,
            failed: 0,
            dead_lettered: 0,
            delete_failed: 0
        }
    );
    assert!(stats.batches >= 1);

    let items = aws.event_items("order#e2e-1").await;
    assert_eq!(items.len(), 2, "{items:#?}");
    let expected_attributes: BTreeSet<&str> = [
        "pk",
        "sk",
        "eventType",
        "state",
        "payload",
        "commandId",
        "metadata",
        "recordedAt",
        "configVersion",
    ]
    .into();
    // Table layout 2 adds the state after the event and the command's fingerprint
    // to every event, and the listing keys to the first (docs/reference.md §3).
    for item in &items {
        let names: BTreeSet<&str> = item.keys().map(String::as_str).collect();
        let mut expected = expected_attributes.clone();
        expected.extend(["fingerprint", "data"]);
        // The order's reservation timeout is set by `CreateOrder` and
        // cleared by `ReserveItem`: both events record that change.
        expected.insert("alarms");
        if n(item, "sk") == 1 {
            expected.extend(["listShard", "listId"]);
        }
        assert_eq!(names, expected, "{item:#?}");
        assert_eq!(s(item, "pk"), "order#e2e-1");
        assert!(is_rfc3339(s(item, "recordedAt")), "{item:#?}");
        assert_eq!(n(item, "configVersion"), 1);
    }
    let first = &items[0];
    assert_eq!(n(first, "sk"), 1);
    assert_eq!(s(first, "eventType"), "OrderCreated");
    assert_eq!(s(first, "state"), "Created");
    assert_eq!(s(first, "commandId"), created["commandId"]);
    let payload: Value = serde_json::from_str(s(first, "payload")).expect("payload is JSON text");
    assert_eq!(payload, created["payload"]);
    let metadata: Value =
        serde_json::from_str(s(first, "metadata")).expect("metadata is JSON text");
    assert_eq!(metadata, json!({ "correlationId": "c-1" }));
    let data: Value = serde_json::from_str(s(first, "data")).expect("data is JSON text");
    assert_eq!(data, created["payload"], "the state after the first event");

    let second = &items[1];
    assert_eq!(n(second, "sk"), 2);
    assert_eq!(s(second, "eventType"), "ItemReserved");
    assert_eq!(s(second, "state"), "Reserved");
    assert_eq!(s(second, "commandId"), reserved["commandId"]);
    assert_eq!(s(second, "payload"), "{}");
    assert_eq!(s(second, "metadata"), "{}");

    assert_eq!(aws.event_types("order#e2e-2").await, ["OrderCreated"]);
    assert_eq!(aws.depth(&queue).await, (0, 0), "the queue ends empty");
    assert_eq!(aws.depth(&dlq).await, (0, 0));
}

#[tokio::test]
async fn a_message_failing_every_time_reaches_the_dlq_after_exactly_ten_receives() {
    let aws = Aws::new().await;
    // Visibility 0: a failed message is visible again at once, so every poll
    // is one more receive of it.
    let (queue, dlq) = aws.queues(0, false).await;
    let bad = command("dlq-1", "ConfirmOrder", json!({}));
    let bodies = [
        create("dlq-1"),
        bad.clone(),
        command("dlq-1", "ReserveItem", json!({})),
        create("dlq-2"),
    ];
    let mut ids = Vec::new();
    for body in &bodies {
        ids.push(aws.send(&queue, body, None).await);
    }
    let bad_id = ids[1].clone();

    let worker = aws.worker(&queue, 0);
    let mut seen_counts = Vec::new();
    let mut total = PollStats::default();
    for poll in 1..=20 {
        let polled = worker.poll().await.expect("polls");
        total += polled.stats();
        for (message, outcome) in polled.messages.iter().zip(&polled.report.outcomes) {
            if message.message_id == bad_id {
                seen_counts.push(message.receive_count.expect("ApproximateReceiveCount"));
                let failure = outcome.result.as_ref().expect_err("the bad one fails");
                assert_eq!(failure.code(), "invalid_transition");
            } else {
                assert!(
                    outcome.result.is_ok(),
                    "poll {poll}: {:?} failed: {:?}",
                    message.body,
                    outcome.result
                );
            }
        }
        let (in_dlq, _) = aws.depth(&dlq).await;
        if in_dlq > 0 {
            // moto moves the message during the receive after its tenth.
            assert_eq!(
                seen_counts.len(),
                10,
                "moved to the DLQ at poll {poll} after {} receives",
                seen_counts.len()
            );
            break;
        }
        assert!(
            seen_counts.len() <= 10,
            "received {} times and not in the DLQ",
            seen_counts.len()
        );
    }
    assert_eq!(
        seen_counts,
        (1..=10).collect::<Vec<u32>>(),
        "one receive per poll, counted 1..10"
    );
    assert_eq!(total.received, 3 + 10);
    assert_eq!(total.applied, 3);
    assert_eq!(total.failed, 10);

    // The valid messages of its batches were applied, in order; the bad one
    // never was.
    assert_eq!(
        aws.event_types("order#dlq-1").await,
        ["OrderCreated", "ItemReserved"]
    );
    assert_eq!(aws.event_types("order#dlq-2").await, ["OrderCreated"]);
    assert_eq!(aws.depth(&queue).await, (0, 0));

    let in_dlq = aws
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("ReceiveMessage on the DLQ");
    let messages = in_dlq.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].message_id(), Some(bad_id.as_str()));
    assert_eq!(messages[0].body(), Some(bad.to_string().as_str()));
    // The count survives the move; this receive from the DLQ is the 11th.
    assert_eq!(
        messages[0]
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .map(String::as_str),
        Some("11")
    );
}

#[tokio::test]
async fn a_fifo_group_stops_at_its_first_failure_and_the_others_go_on() {
    let aws = Aws::new().await;
    // A visibility timeout far longer than the test, however slow the
    // machine: the failed messages must still be in flight at the end.
    let (queue, _dlq) = aws.queues(3600, true).await;
    let (group_a, group_b) = ("order#fifo-a", "order#fifo-b");
    let a = [
        create("fifo-a"),
        command("fifo-a", "ConfirmOrder", json!({})),
        command("fifo-a", "ReserveItem", json!({})),
    ];
    let b = [
        create("fifo-b"),
        command("fifo-b", "ReserveItem", json!({})),
        command(
            "fifo-b",
            "CancelOrder",
            json!({ "reason": "changed my mind" }),
        ),
    ];
    let mut a_ids = Vec::new();
    for (a, b) in a.iter().zip(&b) {
        a_ids.push(aws.send(&queue, a, Some(group_a)).await);
        aws.send(&queue, b, Some(group_b)).await;
    }

    let worker = aws.worker(&queue, 1);
    assert!(worker.is_fifo());
    let polled = worker.poll().await.expect("polls");
    assert_eq!(
        polled.stats(),
        PollStats {
            batches: 1,
            received: 6,
            applied: 4,
            failed: 2,
            dead_lettered: 0,
            delete_failed: 0
        }
    );
    let failed: Vec<(&str, &str)> = polled
        .report
        .outcomes
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|f| (o.message_id.as_str(), f.code()))
        })
        .collect();
    assert_eq!(
        failed,
        [
            (a_ids[1].as_str(), "invalid_transition"),
            (a_ids[2].as_str(), "held_back")
        ]
    );
    for message in &polled.messages {
        let group = message.message_group_id.as_deref();
        assert!(
            group == Some(group_a) || group == Some(group_b),
            "{message:?}"
        );
    }

    assert_eq!(
        aws.event_types("order#fifo-b").await,
        ["OrderCreated", "ItemReserved", "OrderCancelled"]
    );
    assert_eq!(aws.event_types("order#fifo-a").await, ["OrderCreated"]);
    // Group A's second and third are still on the queue (in flight until
    // the visibility timeout); everything else was deleted.
    assert_eq!(aws.depth(&queue).await, (0, 2));
}

/// With a rejection sink, a permanent rejection goes to the DLQ at once,
/// after one receive, carrying its reason and the time the sink's clock
/// reads; transient failures and valid messages are untouched.
#[tokio::test]
async fn a_permanent_rejection_goes_to_the_dlq_at_once_with_its_reason() {
    let aws = Aws::new().await;
    let (queue, dlq) = aws.queues(0, false).await;
    let valid = aws.send(&queue, &create("o-1"), None).await;
    let invalid = aws
        .send(&queue, &command("o-2", "ConfirmOrder", json!({})), None)
        .await;
    let malformed = aws
        .sqs
        .send_message()
        .queue_url(&queue)
        .message_body("{not json")
        .send()
        .await
        .expect("SendMessage")
        .message_id()
        .expect("id")
        .to_owned();

    let handler =
        aws.handler()
            .with_rejection_sink(std::sync::Arc::new(sqs_dlq_sink::SqsDeadLetters::new(
                aws.sqs.clone(),
                &dlq,
                std::sync::Arc::new(handler_core::FixedClock(
                    "2031-04-05T06:07:08.901Z".parse().unwrap(),
                )),
            )));
    let worker = Worker::new(aws.sqs.clone(), &queue, handler).with_wait_time_seconds(0);
    let stats = worker.run_until_empty().await.expect("worker");
    assert_eq!(
        (stats.applied, stats.dead_lettered, stats.failed),
        (1, 2, 0),
        "{stats:?}"
    );
    assert_eq!(aws.depth(&queue).await, (0, 0), "nothing comes back");
    assert_eq!(aws.event_types("order#o-1").await, ["OrderCreated"]);
    let _ = valid;

    let received = aws
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .expect("ReceiveMessage on the DLQ");
    let mut found: Vec<(String, String, String)> = received
        .messages()
        .iter()
        .map(|m| {
            let attribute = |name: &str| {
                m.message_attributes()
                    .and_then(|a| a.get(name))
                    .and_then(|v| v.string_value())
                    .unwrap_or_default()
                    .to_owned()
            };
            assert!(!attribute("rejectionReason").is_empty());
            assert_eq!(attribute("rejectedAt"), "2031-04-05T06:07:08.901Z");
            (
                attribute("originalMessageId"),
                attribute("rejectionCode"),
                attribute("aggregate"),
            )
        })
        .collect();
    found.sort();
    let mut want = vec![
        (
            invalid.clone(),
            "invalid_transition".to_owned(),
            "order#o-2".to_owned(),
        ),
        (
            malformed.clone(),
            "malformed_message".to_owned(),
            String::new(),
        ),
    ];
    want.sort();
    assert_eq!(found, want);

    // The failure records name the same reasons, under the original ids.
    let store = DynamoStore::new(
        aws.dynamo.clone(),
        &aws.table,
        std::sync::Arc::new(handler_core::SystemClock),
    );
    for (id, code) in [
        (&invalid, "invalid_transition"),
        (&malformed, "malformed_message"),
    ] {
        let record = handler_core::FailureLog::failure(&store, id)
            .await
            .expect("read")
            .expect("recorded");
        assert_eq!(record.last.code, code);
        assert_eq!(record.failures, 1);
    }
}
