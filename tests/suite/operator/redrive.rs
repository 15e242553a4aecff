//! Redriving: one message or all, interrupted, on FIFO, and without the
//! move task.

use aws_sdk_sqs::types::MessageSystemAttributeName;
use handler_core::{AggregateKey, EventStore};
use serde_json::{Value, json};
use sqs_dead_letter::peek::{self};
use sqs_dead_letter::{Redrive, RedriveMethod, RedriveOptions, Selection};

use super::harness::{Ops, command, create, fix};

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
