//! The operator's work on the dead-letter queue, through `sqs-dead-letter`
//! against moto with the real SDK: finding the DLQ, listing it without
//! consuming it, explaining each message by the failure record the handler
//! wrote, redriving one message or all of them (moto has no message move
//! task, so the send-then-delete road is the one taken), an interrupted
//! redrive that leaves a message in both queues and still applies once, a
//! FIFO redrive, and purge. (`cmdctl`'s verbs over the same library are run
//! as a binary in `cmd/cmdctl/tests/cli/`.)

use std::sync::Arc;

use aws_sdk_sqs::types::MessageSystemAttributeName;
use config_s3::S3ConfigSource;
use handler_core::{AggregateKey, EventStore, all_events};
use serde_json::{Value, json};
use sqs_dead_letter::peek::{self, PeekOptions};
use sqs_dead_letter::{Redrive, RedriveMethod, RedriveOptions, Selection, SqsDeadLetters, queues};
use sqs_worker::Worker;
use store_dynamodb::DynamoStore;
use testkit::aws::AwsStack;
use testkit::scenario::command_body;

/// A stack, a queue and its DLQ.
struct Ops {
    aws: AwsStack,
    queue: String,
    dlq: String,
}

type AppWorker = Worker<DynamoStore, S3ConfigSource>;

impl Ops {
    async fn new(visibility_timeout: u32, fifo: bool) -> Self {
        let aws = AwsStack::new().await;
        let (queue, dlq) = aws.queues(visibility_timeout, fifo).await;
        Ops { aws, queue, dlq }
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        self.aws.sqs().clone()
    }

    /// The worker as the Lambda runs it: failures come back.
    fn worker(&self) -> AppWorker {
        Worker::new(self.sqs(), &self.queue, self.aws.handler()).with_wait_time_seconds(0)
    }

    /// The worker with `--reject-to-dlq`: permanent rejections go to the
    /// DLQ at once.
    fn rejecting_worker(&self) -> AppWorker {
        let handler = self
            .aws
            .handler()
            .with_rejection_sink(Arc::new(SqsDeadLetters::new(self.sqs(), &self.dlq)));
        Worker::new(self.sqs(), &self.queue, handler).with_wait_time_seconds(0)
    }

    /// Sends a body; on FIFO the group is the aggregate and the
    /// deduplication id the command id. Returns the message id.
    async fn send(&self, body: &Value) -> String {
        let mut send = self
            .aws
            .sqs()
            .send_message()
            .queue_url(&self.queue)
            .message_body(body.to_string());
        if queues::is_fifo(&self.queue) {
            send = send
                .message_group_id(format!(
                    "{}#{}",
                    body["aggregateType"].as_str().unwrap(),
                    body["aggregateId"].as_str().unwrap()
                ))
                .message_deduplication_id(body["commandId"].as_str().expect("a commandId"));
        }
        send.send()
            .await
            .expect("SendMessage")
            .message_id()
            .expect("a message id")
            .to_owned()
    }

    async fn drain(&self, worker: &AppWorker) -> sqs_worker::PollStats {
        worker.run_until_empty().await.expect("the worker runs")
    }

    async fn event_types(&self, aggregate_id: &str) -> Vec<String> {
        all_events(&self.aws.store(), &AggregateKey::new("order", aggregate_id))
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    async fn peek(&self) -> Vec<sqs_dead_letter::DeadLetter> {
        peek::peek(self.aws.sqs(), &self.dlq, &PeekOptions::default(), &())
            .await
            .expect("peek")
    }
}

/// An order command body with a fresh command id.
fn command(aggregate_id: &str, name: &str, payload: Value) -> Value {
    command_body("order", aggregate_id, name, payload)
}

fn create(aggregate_id: &str) -> Value {
    command(
        aggregate_id,
        "CreateOrder",
        json!({ "itemId": "beans", "quantity": 1 }),
    )
}

/// What makes a refused `ConfirmOrder` of a created order valid: reserve
/// and pay first.
fn fix(aggregate_id: &str) -> [Value; 2] {
    [
        command(aggregate_id, "ReserveItem", json!({})),
        command(
            aggregate_id,
            "ProcessPayment",
            json!({ "amount": 12.5, "currency": "EUR" }),
        ),
    ]
}

#[tokio::test]
async fn the_dlq_is_found_both_ways_and_listed_with_the_recorded_reasons_without_consuming_it() {
    // Visibility 0: a failed message is visible again at once, so every
    // poll is one more receive of it.
    let ops = Ops::new(0, false).await;
    let sqs = ops.sqs();
    assert_eq!(
        queues::dead_letter_queue_of(&sqs, &ops.queue)
            .await
            .unwrap(),
        ops.dlq
    );
    assert_eq!(
        queues::source_queue_of(&sqs, &ops.dlq).await.unwrap(),
        ops.queue
    );
    assert!(matches!(
        queues::dead_letter_queue_of(&sqs, &ops.dlq).await,
        Err(sqs_dead_letter::DlqError::NoRedrivePolicy { .. })
    ));

    // One message reaches the DLQ by the redrive policy, after 10 receives.
    ops.send(&create("dl-1")).await;
    let slow = ops.send(&command("dl-1", "ConfirmOrder", json!({}))).await;
    let worker = ops.worker();
    for _ in 0..20 {
        worker.poll().await.expect("polls");
        if ops.aws.depth(&ops.dlq).await.0 > 0 {
            break;
        }
    }
    assert_eq!(
        ops.aws.depth(&ops.dlq).await,
        (1, 0),
        "moved after 10 receives"
    );

    // Another is rejected to the DLQ at once, as a new message.
    let fast = ops
        .send(&command("dl-1", "CancelReservation", json!({})))
        .await;
    let stats = ops.drain(&ops.rejecting_worker()).await;
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");

    let letters = ops.peek().await;
    assert_eq!(letters.len(), 2);
    assert_eq!(
        ops.aws.depth(&ops.dlq).await,
        (2, 0),
        "listing leaves every message visible"
    );
    assert_eq!(ops.peek().await.len(), 2, "and can be done again");

    let moved = letters
        .iter()
        .find(|l| l.message_id == slow)
        .expect("a message moved by the redrive policy keeps its id");
    assert!(!moved.is_rejection_copy());
    let copy = letters
        .iter()
        .find(|l| l.message_id != slow)
        .expect("the rejection copy");
    assert_eq!(copy.original_message_id(), fast);
    assert_ne!(copy.message_id, fast, "a copy is a new message");

    let explained = sqs_dead_letter::explain(&ops.aws.store(), letters).await;
    let slow_e = explained
        .iter()
        .find(|e| e.letter.message_id == slow)
        .unwrap();
    let record = slow_e.failure.as_ref().expect("a failure record");
    assert_eq!(record.failures, 10);
    assert_eq!(record.last.receive_count, Some(10));
    assert!(record.first_failed_at <= record.last.failed_at);
    assert_eq!(slow_e.code(), Some("invalid_transition"));
    assert!(
        slow_e
            .reason()
            .unwrap()
            .contains("`ConfirmOrder` is not allowed in state `Created`"),
        "{:?}",
        slow_e.reason()
    );
    assert_eq!(slow_e.aggregate().as_deref(), Some("order#dl-1"));
    assert_eq!(slow_e.command().as_deref(), Some("ConfirmOrder"));
    assert!(slow_e.letter.receive_count.unwrap() >= 11);

    let fast_e = explained
        .iter()
        .find(|e| e.letter.message_id != slow)
        .unwrap();
    let record = fast_e.failure.as_ref().expect("found by originalMessageId");
    assert_eq!(record.failures, 1);
    assert_eq!(record.last.message_id, fast);
    assert_eq!(fast_e.code(), Some("invalid_transition"));
    assert_eq!(fast_e.command().as_deref(), Some("CancelReservation"));
    assert!(fast_e.lookup_error.is_none());

    // A limit stops the listing early; purge empties the queue.
    let one = peek::peek(
        &sqs,
        &ops.dlq,
        &PeekOptions {
            limit: Some(1),
            ..PeekOptions::default()
        },
        &(),
    )
    .await
    .unwrap();
    assert_eq!(one.len(), 1);
    queues::purge(&sqs, &ops.dlq).await.unwrap();
    assert_eq!(ops.aws.depth(&ops.dlq).await, (0, 0));
    assert!(ops.peek().await.is_empty());
}

#[tokio::test]
async fn redriving_one_message_then_all_puts_them_back_and_once_fixed_they_apply() {
    let ops = Ops::new(0, false).await;
    for id in ["rd-1", "rd-2", "rd-3"] {
        ops.send(&create(id)).await;
    }
    ops.drain(&ops.worker()).await;
    let mut bad = Vec::new();
    for id in ["rd-1", "rd-2", "rd-3"] {
        bad.push(ops.send(&command(id, "ConfirmOrder", json!({}))).await);
    }
    let stats = ops.drain(&ops.rejecting_worker()).await;
    assert_eq!(stats.dead_lettered, 3, "{stats:?}");
    assert_eq!(ops.aws.depth(&ops.dlq).await, (3, 0));

    // Fix the cause: the orders are paid now, so ConfirmOrder is valid.
    for id in ["rd-1", "rd-2", "rd-3"] {
        for body in fix(id) {
            ops.send(&body).await;
        }
    }
    ops.drain(&ops.worker()).await;

    // One, named by its original message id.
    let redrive = Redrive::new(ops.sqs(), &ops.dlq, &ops.queue);
    let report = redrive
        .run(&Selection::Ids(vec![bad[0].clone()]), &())
        .await
        .expect("redrive");
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.moved.len(), 1);
    assert_eq!(report.moved[0].original_message_id, bad[0]);
    assert_eq!(
        report.method,
        RedriveMethod::SendThenDelete {
            move_task_refused: None
        }
    );
    assert_eq!(
        ops.aws.depth(&ops.dlq).await,
        (2, 0),
        "the others stay, visible"
    );
    assert_eq!(ops.aws.depth(&ops.queue).await, (1, 0));
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!((stats.applied, stats.failed), (1, 0), "{stats:?}");
    assert_eq!(
        ops.event_types("rd-1").await,
        [
            "OrderCreated",
            "ItemReserved",
            "PaymentProcessed",
            "OrderConfirmed"
        ]
    );

    // An id that is not there is reported, and nothing else moves.
    let report = redrive
        .run(&Selection::Ids(vec!["no-such-id".to_owned()]), &())
        .await
        .unwrap();
    assert_eq!(report.not_found, ["no-such-id"]);
    assert!(report.moved.is_empty() && !report.is_complete());
    assert_eq!(ops.aws.depth(&ops.dlq).await, (2, 0));

    // All: moto refuses the move task (HTTP 500), so send-then-delete.
    let report = redrive.run(&Selection::All, &()).await.expect("redrive");
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.moved.len(), 2);
    match &report.method {
        RedriveMethod::SendThenDelete {
            move_task_refused: Some(why),
        } => assert!(why.contains("StartMessageMoveTask"), "{why}"),
        other => panic!("expected the fallback, got {other:?}"),
    }
    assert_eq!(ops.aws.depth(&ops.dlq).await, (0, 0));
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!((stats.applied, stats.failed), (2, 0), "{stats:?}");
    for id in ["rd-2", "rd-3"] {
        assert_eq!(
            ops.event_types(id).await.last().map(String::as_str),
            Some("OrderConfirmed")
        );
    }
}

#[tokio::test]
async fn an_interrupted_redrive_leaves_the_message_in_both_queues_and_it_applies_once() {
    let ops = Ops::new(0, false).await;
    ops.send(&create("ir-1")).await;
    ops.drain(&ops.worker()).await;
    // No commandId: the SQS message id is the idempotency key, and a
    // redriven copy has a new one, unless the redrive writes the original
    // id into the body (it does).
    let body =
        json!({ "aggregateType": "order", "aggregateId": "ir-1", "command": "ConfirmOrder" });
    let original = ops.send(&body).await;
    ops.drain(&ops.rejecting_worker()).await;
    for body in fix("ir-1") {
        ops.send(&body).await;
    }
    ops.drain(&ops.worker()).await;

    // Interrupted: the copy was sent, the delete never happened.
    let redrive = Redrive::new(ops.sqs(), &ops.dlq, &ops.queue);
    let letters = peek::receive(ops.aws.sqs(), &ops.dlq, 10, 30, 1)
        .await
        .unwrap();
    assert_eq!(letters.len(), 1);
    let sent = redrive.send_copies(&letters).await.unwrap();
    assert_eq!(sent.sent.len(), 1, "{sent:?}");
    peek::release(ops.aws.sqs(), &ops.dlq, &letters)
        .await
        .unwrap();
    assert_eq!(ops.aws.depth(&ops.queue).await, (1, 0), "in the queue");
    assert_eq!(
        ops.aws.depth(&ops.dlq).await,
        (1, 0),
        "and still in the DLQ"
    );

    let stats = ops.drain(&ops.worker()).await;
    assert_eq!(stats.applied, 1, "{stats:?}");
    // Redriven again (the operator runs the redrive once more): a duplicate.
    let report = redrive
        .clone()
        .with_options(RedriveOptions {
            use_move_task: false,
            ..RedriveOptions::default()
        })
        .run(&Selection::All, &())
        .await
        .unwrap();
    assert_eq!(report.moved.len(), 1, "{report:?}");
    assert_eq!(report.moved[0].original_message_id, original);
    let received = ops
        .aws
        .sqs()
        .receive_message()
        .queue_url(&ops.queue)
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let copy: Value = serde_json::from_str(received.messages()[0].body().unwrap()).unwrap();
    assert_eq!(
        copy["commandId"],
        original.as_str(),
        "the original id is the key"
    );
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!((stats.received, stats.applied, stats.failed), (1, 1, 0));
    assert_eq!(
        ops.event_types("ir-1").await,
        [
            "OrderCreated",
            "ItemReserved",
            "PaymentProcessed",
            "OrderConfirmed"
        ],
        "applied once"
    );
    let head = ops
        .aws
        .store()
        .load(&AggregateKey::new("order", "ir-1"), &[])
        .await
        .unwrap()
        .head
        .unwrap();
    assert_eq!((head.state.as_str(), head.version), ("Confirmed", 4));
    assert_eq!(ops.aws.depth(&ops.dlq).await, (0, 0));
}

#[tokio::test]
async fn a_fifo_redrive_keeps_the_message_group() {
    let ops = Ops::new(30, true).await;
    ops.send(&create("ff-1")).await;
    ops.drain(&ops.worker()).await;
    let bad = ops.send(&command("ff-1", "ConfirmOrder", json!({}))).await;
    let stats = ops.drain(&ops.rejecting_worker()).await;
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    for body in fix("ff-1") {
        ops.send(&body).await;
    }
    ops.drain(&ops.worker()).await;

    let letters = ops.peek().await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].message_group_id.as_deref(), Some("order#ff-1"));
    let report = Redrive::new(ops.sqs(), &ops.dlq, &ops.queue)
        .run(&Selection::Ids(vec![bad.clone()]), &())
        .await
        .unwrap();
    assert!(report.is_complete(), "{report:?}");

    let received = ops
        .aws
        .sqs()
        .receive_message()
        .queue_url(&ops.queue)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .message_attribute_names("All")
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let message = &received.messages()[0];
    let system = |name| {
        message
            .attributes()
            .and_then(|a| a.get(&name))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        system(MessageSystemAttributeName::MessageGroupId),
        "order#ff-1"
    );
    assert_eq!(
        system(MessageSystemAttributeName::MessageDeduplicationId),
        format!("redrive-{}", letters[0].message_id)
    );
    assert!(
        message.message_attributes().is_none_or(|a| a.is_empty()),
        "the rejection attributes are gone: {:?}",
        message.message_attributes()
    );
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!((stats.applied, stats.failed), (1, 0), "{stats:?}");
    assert_eq!(
        ops.event_types("ff-1").await.last().map(String::as_str),
        Some("OrderConfirmed")
    );
}

#[tokio::test]
async fn redrive_all_does_not_use_the_move_task_while_a_body_lacks_its_command_id() {
    // A moved message gets a new message id, which would become the key of
    // a body without commandId: redrive --all checks every body first.
    let ops = Ops::new(0, false).await;
    for id in ["nk-1", "nk-2"] {
        ops.send(&create(id)).await;
    }
    ops.drain(&ops.worker()).await;
    let keyed = ops.send(&command("nk-1", "ConfirmOrder", json!({}))).await;
    let bare =
        json!({ "aggregateType": "order", "aggregateId": "nk-2", "command": "ConfirmOrder" });
    let unkeyed = ops.send(&bare).await;
    let stats = ops.drain(&ops.rejecting_worker()).await;
    assert_eq!(stats.dead_lettered, 2, "{stats:?}");
    for id in ["nk-1", "nk-2"] {
        for body in fix(id) {
            ops.send(&body).await;
        }
    }
    ops.drain(&ops.worker()).await;

    // An earlier redrive was interrupted: both copies sent, neither deleted.
    let redrive = Redrive::new(ops.sqs(), &ops.dlq, &ops.queue);
    let letters = peek::receive(ops.aws.sqs(), &ops.dlq, 10, 30, 1)
        .await
        .unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(redrive.send_copies(&letters).await.unwrap().sent.len(), 2);
    peek::release(ops.aws.sqs(), &ops.dlq, &letters)
        .await
        .unwrap();
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!((stats.applied, stats.failed), (2, 0), "{stats:?}");

    // Now --all, the move task allowed: it is not even tried.
    let report = redrive.run(&Selection::All, &()).await.expect("redrive");
    assert!(report.is_complete(), "{report:?}");
    match &report.method {
        RedriveMethod::SendThenDelete {
            move_task_refused: Some(why),
        } => assert!(
            why.starts_with("not used: 1 of 2 message(s) carry no commandId"),
            "{why}"
        ),
        other => panic!("expected send-then-delete, got {other:?}"),
    }
    let mut originals: Vec<&str> = report
        .moved
        .iter()
        .map(|m| m.original_message_id.as_str())
        .collect();
    originals.sort_unstable();
    let mut want = [keyed.as_str(), unkeyed.as_str()];
    want.sort_unstable();
    assert_eq!(originals, want);
    let stats = ops.drain(&ops.worker()).await;
    assert_eq!(
        (stats.received, stats.applied, stats.failed),
        (2, 2, 0),
        "both copies are duplicates: {stats:?}"
    );
    for id in ["nk-1", "nk-2"] {
        assert_eq!(
            ops.event_types(id).await,
            [
                "OrderCreated",
                "ItemReserved",
                "PaymentProcessed",
                "OrderConfirmed"
            ],
            "{id} confirmed once"
        );
    }
    assert_eq!(ops.aws.depth(&ops.dlq).await, (0, 0));
}

#[tokio::test]
async fn purge_and_redrive_refuse_a_queue_that_is_no_dead_letter_queue() {
    let ops = Ops::new(30, false).await;
    ops.send(&create("live-1")).await;
    let sqs = ops.sqs();
    for result in [
        queues::purge(&sqs, &ops.queue).await,
        Redrive::new(ops.sqs(), &ops.queue, &ops.dlq)
            .run(&Selection::All, &())
            .await
            .map(|_| ()),
    ] {
        let error = result.expect_err("a live queue is refused");
        assert_eq!(
            error,
            sqs_dead_letter::DlqError::NoSourceQueue {
                dlq: ops.queue.clone()
            }
        );
    }
    assert_eq!(ops.aws.depth(&ops.queue).await, (1, 0), "nothing purged");
    assert_eq!(ops.aws.depth(&ops.dlq).await, (0, 0), "nothing moved");
}
