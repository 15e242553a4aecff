//! The batch handler, given/when/then, on the embedded store.

use handler_core::Transient;
use serde_json::json;
use testkit::scenario::{Scenario, command, raw};

fn create(id: &str) -> testkit::scenario::Message {
    command(
        "order",
        id,
        "CreateOrder",
        json!({"itemId": "coffee-beans", "quantity": 1}),
    )
}

fn order(id: &str, cmd: &str) -> testkit::scenario::Message {
    command("order", id, cmd, json!({}))
}

#[tokio::test]
async fn one_failing_message_does_not_stop_other_aggregates() {
    Scenario::new()
        .when(vec![
            create("o-1").id("ok-1"),
            order("o-2", "ConfirmOrder").id("bad"),
            command("ticket", "t-1", "OpenTicket", json!({"title": "printer"})).id("ok-2"),
        ])
        .await
        .then_failed(&["bad"])
        .then_reason("bad", "invalid_transition")
        .then_applied("ok-1", 1, false)
        .then_applied("ok-2", 1, false)
        .then_events("order", "o-1", &["OrderCreated"])
        .await
        .then_events("ticket", "t-1", &["TicketOpened"])
        .await
        .then_events("order", "o-2", &[])
        .await;
}

#[tokio::test]
async fn messages_for_one_aggregate_apply_in_batch_order() {
    Scenario::new()
        .when(vec![
            create("o-1").id("m1"),
            order("o-1", "ReserveItem").id("m2"),
            command(
                "order",
                "o-1",
                "ProcessPayment",
                json!({"amount": 12.5, "currency": "EUR"}),
            )
            .id("m3"),
            order("o-1", "ConfirmOrder").id("m4"),
        ])
        .await
        .then_failed(&[])
        .then_applied("m1", 1, false)
        .then_applied("m4", 4, false)
        .then_events(
            "order",
            "o-1",
            &[
                "OrderCreated",
                "ItemReserved",
                "PaymentProcessed",
                "OrderConfirmed",
            ],
        )
        .await
        .then_state("order", "o-1", "Confirmed", 4)
        .await;
}

#[tokio::test]
async fn expected_version_is_honoured() {
    Scenario::new()
        .given_commands(vec![create("o-1")])
        .await
        .when(vec![
            order("o-1", "ReserveItem")
                .with("expectedVersion", json!(0))
                .id("stale"),
            order("o-1", "ReserveItem")
                .with("expectedVersion", json!(1))
                .id("current"),
            create("o-2").with("expectedVersion", json!(0)).id("new"),
        ])
        .await
        .then_failed(&["stale"])
        .then_reason("stale", "version_mismatch")
        .then_applied("current", 2, false)
        .then_applied("new", 1, false);
}

#[tokio::test]
async fn a_standard_queue_rejection_does_not_hold_back_the_aggregate() {
    Scenario::new()
        .when(vec![
            create("o-1").id("m1"),
            order("o-1", "ConfirmOrder").id("m2"),
            order("o-1", "ReserveItem").id("m3"),
        ])
        .await
        .then_failed(&["m2"])
        .then_applied("m3", 2, false);
}

#[tokio::test]
async fn a_fifo_group_stops_at_its_first_failure() {
    let then = Scenario::new()
        .when_fifo(vec![
            create("o-1").id("a1").group("g-a"),
            create("o-2").id("b1").group("g-b"),
            order("o-1", "ConfirmOrder").id("a2").group("g-a"),
            order("o-2", "ReserveItem").id("b2").group("g-b"),
            order("o-1", "ReserveItem").id("a3").group("g-a"),
            // Same group, another aggregate: held back too.
            create("o-3").id("a4").group("g-a"),
        ])
        .await
        .then_failed(&["a2", "a3", "a4"])
        .then_reason("a2", "invalid_transition")
        .then_reason("a3", "held_back")
        .then_reason("a4", "held_back")
        .then_applied("a1", 1, false)
        .then_applied("b2", 2, false);
    assert!(matches!(
        then.failure("a4"),
        handler_core::Failure::Transient(Transient::HeldBack { blocked_by, .. }) if blocked_by == "a2"
    ));
    then.then_events("order", "o-3", &[]).await;
}

#[tokio::test]
async fn a_redelivered_message_applies_once() {
    let first = create("o-1").id("same-message");
    Scenario::new()
        .when(vec![first.clone()])
        .await
        .then_applied("same-message", 1, false)
        .and()
        .when(vec![first, order("o-1", "ReserveItem").id("next")])
        .await
        .then_failed(&[])
        .then_applied("same-message", 1, true)
        .then_applied("next", 2, false)
        .then_events("order", "o-1", &["OrderCreated", "ItemReserved"])
        .await;
}

#[tokio::test]
async fn a_command_id_twice_in_one_batch_applies_once() {
    let comment = |id: &str| {
        command("ticket", "t-1", "Comment", json!({"text": "hello"}))
            .with("commandId", json!("c-1"))
            .id(id)
    };
    Scenario::new()
        .given_commands(vec![command(
            "ticket",
            "t-1",
            "OpenTicket",
            json!({"title": "x"}),
        )])
        .await
        .when(vec![comment("first"), comment("second")])
        .await
        .then_failed(&[])
        .then_applied("first", 2, false)
        .then_applied("second", 2, true)
        .then_events("ticket", "t-1", &["TicketOpened", "CommentAdded"])
        .await;
}

/// A command id is scoped to its aggregate: reused on the same aggregate for
/// another payload it is refused; sent to another aggregate it is another
/// command there, and applies (table layout 2, docs/cost.md option 3).
#[tokio::test]
async fn a_reused_command_id_with_another_payload_is_refused() {
    Scenario::new()
        .given_commands(vec![create("o-1").with("commandId", json!("c-1"))])
        .await
        .when(vec![
            command(
                "order",
                "o-1",
                "CreateOrder",
                json!({"itemId": "tea", "quantity": 2}),
            )
            .with("commandId", json!("c-1"))
            .id("reused"),
            create("o-2")
                .with("commandId", json!("c-1"))
                .id("elsewhere"),
        ])
        .await
        .then_failed(&["reused"])
        .then_reason("reused", "command_id_reused")
        .then_applied("elsewhere", 1, false)
        .then_events("order", "o-1", &["OrderCreated"])
        .await
        .then_events("order", "o-2", &["OrderCreated"])
        .await;
}

#[tokio::test]
async fn every_rejection_kind_has_its_reason() {
    Scenario::new()
        .when(vec![
            raw("{not json").id("malformed"),
            command("invoice", "i-1", "Create", json!({})).id("unknown-type"),
            order("o-1", "ShipOrder").id("unknown-command"),
            command(
                "order",
                "o-2",
                "CreateOrder",
                json!({"itemId": "x", "quantity": 0}),
            )
            .id("schema"),
            order("o-3", "ConfirmOrder").id("transition"),
        ])
        .await
        .then_failed(&[
            "malformed",
            "unknown-type",
            "unknown-command",
            "schema",
            "transition",
        ])
        .then_reason("malformed", "malformed_message")
        .then_reason("unknown-type", "unknown_aggregate_type")
        .then_reason("unknown-command", "unknown_command")
        .then_reason("schema", "schema_violation")
        .then_reason("transition", "invalid_transition");
}

#[tokio::test]
async fn a_long_run_for_one_aggregate_is_split_into_gapless_commits() {
    let mut batch = vec![command(
        "ticket",
        "t-1",
        "OpenTicket",
        json!({"title": "x"}),
    )];
    for i in 0..120 {
        batch.push(command(
            "ticket",
            "t-1",
            "Comment",
            json!({"text": format!("c{i}")}),
        ));
    }
    let then = Scenario::new().when(batch).await.then_failed(&[]);
    let mut want = vec!["TicketOpened"];
    want.extend(std::iter::repeat_n("CommentAdded", 120));
    then.then_events("ticket", "t-1", &want)
        .await
        .then_state("ticket", "t-1", "Open", 121)
        .await;
}

#[tokio::test]
async fn a_state_that_would_outgrow_an_item_is_refused_alone() {
    // Each field fits an item alone; the ticket's payloads are closed, so the
    // state grows through its declared fields. An event's item holds its
    // payload and the state after it (table layout 2), so the second command's
    // item (100 KB of payload, 300 KB of state) is over 400 KB.
    let big = "x".repeat(100 * 1024);
    Scenario::new()
        .given_commands(vec![command(
            "ticket",
            "t-1",
            "OpenTicket",
            json!({"title": "x", "description": big}),
        )])
        .await
        .when(vec![
            command("ticket", "t-1", "Comment", json!({"text": big})).id("first"),
            command("ticket", "t-1", "Assign", json!({"assignee": big})).id("second"),
            command("ticket", "t-1", "Comment", json!({"text": "c"})).id("third"),
        ])
        .await
        .then_failed(&["second"])
        .then_reason("second", "too_large")
        .then_applied("third", 3, false);
}

#[tokio::test]
async fn a_passed_deadline_attempts_nothing() {
    let scenario = Scenario::new();
    let report = scenario
        .handler()
        .handle(handler_core::Batch {
            messages: vec![handler_core::InboundMessage::new(
                "late",
                r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder","payload":{"itemId":"x","quantity":1}}"#,
            )],
            fifo: false,
            deadline: Some(std::time::Instant::now()),
        })
        .await;
    assert_eq!(report.failed_message_ids(), vec!["late".to_owned()]);
    assert_eq!(
        report.outcomes[0].result.as_ref().unwrap_err().code(),
        "deadline"
    );
}

#[tokio::test]
async fn a_run_over_the_commit_byte_limit_is_split_by_size() {
    // Each event's item holds its payload and the state after it (the text
    // again): about 200 KB, so 25 of them are over 4 MB.
    let blob = "b".repeat(100 * 1024);
    let mut batch = vec![command(
        "ticket",
        "t-1",
        "OpenTicket",
        json!({"title": "x"}),
    )];
    for i in 0..25 {
        batch.push(command(
            "ticket",
            "t-1",
            "Comment",
            json!({"text": format!("c{i}{blob}")}),
        ));
    }
    Scenario::new()
        .when(batch)
        .await
        .then_failed(&[])
        .then_state("ticket", "t-1", "Open", 26)
        .await;
}

/// Takes the messages whose ids it is told to take; remembers what it was
/// offered.
struct TakeSome {
    accept: Vec<&'static str>,
    offered: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl handler_core::RejectionSink for TakeSome {
    async fn take(&self, rejected: &[handler_core::Rejected<'_>]) -> Vec<String> {
        let ids: Vec<String> = rejected
            .iter()
            .map(|r| r.message.message_id.clone())
            .collect();
        self.offered.lock().unwrap().extend(ids.iter().cloned());
        ids.into_iter()
            .filter(|id| self.accept.contains(&id.as_str()))
            .collect()
    }
}

#[tokio::test]
async fn only_permanent_rejections_are_handed_to_the_sink_and_taken_ones_are_done() {
    let sink = std::sync::Arc::new(TakeSome {
        accept: vec!["a2"],
        offered: std::sync::Mutex::new(Vec::new()),
    });
    let scenario = Scenario::new();
    let scenario =
        Scenario::from_handler(scenario.into_handler().with_rejection_sink(sink.clone()));
    let then = scenario
        .when_fifo(vec![
            create("o-1").id("a1").group("g-a"),
            order("o-1", "ConfirmOrder").id("a2").group("g-a"),
            order("o-1", "ReserveItem").id("a3").group("g-a"),
            raw("{").id("b1").group("g-b"),
        ])
        .await
        // a2 was taken by the sink: done. a3 was held back (transient): it
        // comes back. b1 was offered but not taken: it comes back too.
        .then_failed(&["a3", "b1"]);
    let mut offered = sink.offered.lock().unwrap().clone();
    offered.sort();
    assert_eq!(offered, vec!["a2", "b1"]);
    let outcome = then
        .report
        .outcomes
        .iter()
        .find(|o| o.message_id == "a2")
        .unwrap();
    assert!(outcome.dead_lettered && outcome.result.is_err());
}
