//! The operator's work on the dead-letter queue, through `sqs-dead-letter`
//! against moto with the real SDK: finding the DLQ, listing it without
//! consuming it, explaining each message by the failure record the handler
//! wrote, redriving one message or all of them (moto has no message move
//! task, so the send-then-delete road is the one taken), an interrupted
//! redrive that leaves a message in both queues and still applies once, a
//! FIFO redrive, and purge. (`cmdctl`'s verbs over the same library are run
//! as a binary in `cmd/cmdctl/tests/cli/`.)

mod create;
mod harness;
mod redrive;

use serde_json::json;
use sqs_dead_letter::peek::{self, PeekOptions};
use sqs_dead_letter::{Redrive, Selection, queues};

use harness::{Ops, command, create};

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

/// An SQS failure keeps the SDK's error as the source of the DLQ error,
/// not only its text.
#[tokio::test]
async fn a_dlq_error_keeps_the_sdk_error_as_its_source() {
    let config = testkit::moto::moto().sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let missing = format!(
        "{}/123456789012/{}",
        testkit::moto::moto().endpoint(),
        testkit::moto::unique_name("no-such-queue")
    );
    let err = queues::queue_arn(&sqs, &missing).await.unwrap_err();
    assert!(
        matches!(
            &err,
            sqs_dead_letter::DlqError::Sqs {
                operation: "GetQueueAttributes",
                ..
            }
        ),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).expect("the SDK's error as the source");
    let chain = test_doubles::error_chain(source);
    assert!(
        chain.contains("NonExistentQueue") || chain.contains("QueueDoesNotExist"),
        "{chain}"
    );
}
