//! The order saga's payment timeout on moto: an order paid by transfer
//! whose payment provider never answers. The charge sets the 15-minute
//! `payment-timeout` alarm, which the processor puts on the command queue
//! delayed by (almost) 15 minutes; rather than wait, the test delivers the
//! alarm's command by hand, built by the one builder every path uses. The
//! payment times out, the reservation is cancelled, the stock released and
//! the order cancelled; a late confirmation is then refunded.

use handler_core::state_machine::alarm_command;
use handler_core::{AggregateKey, EventStore};
use serde_json::{Value, json};

use super::rig::AlarmRig;
use crate::processor::harness::command;

async fn state(rig: &AlarmRig, aggregate_type: &str, id: &str) -> (String, Value) {
    let head = rig
        .rig
        .stack
        .store()
        .load(&AggregateKey::new(aggregate_type, id), &[])
        .await
        .expect("load")
        .head
        .expect("the aggregate exists");
    (head.state, Value::Object(head.data))
}

#[tokio::test]
async fn a_transfer_that_never_answers_times_out_and_cancels_the_order() {
    let mut rig = AlarmRig::new().await;
    let restocked = rig
        .rig
        .apply(&[command(
            "inventory",
            "beans",
            "Restock",
            json!({"quantity": 10, "price": 4}),
        )])
        .await;
    assert!(restocked.batch_item_failures.is_empty());
    rig.rig
        .apply(&[command(
            "order",
            "o-1",
            "CreateOrder",
            json!({"itemId": "beans", "quantity": 2, "paymentMethod": "transfer"}),
        )])
        .await;
    let alarms = rig.drive().await;
    // The charge waits for the provider: its timeout is a delayed message,
    // its year-long expiry a schedule. The order's reservation timeout, set
    // by `CreateOrder`, was a delayed message too (cleared by the
    // reservation, so it fires stale).
    assert_eq!((alarms.delayed, alarms.scheduled), (2, 1), "{alarms:?}");
    assert_eq!(rig.delayed().await, 2);
    assert_eq!(state(&rig, "order", "o-1").await.0, "Reserved");
    assert_eq!(state(&rig, "payment", "o-1").await.0, "Pending");
    assert_eq!(state(&rig, "inventory", "beans").await.1["stock"], 8);

    // Fifteen minutes pass and nobody answers: the alarm's command, as the
    // delayed message holds it.
    let charged = rig.rig.events("payment", "o-1").await;
    let timeout = charged[0]
        .alarms
        .as_ref()
        .and_then(|a| a.set.iter().find(|a| a.name == "payment-timeout"))
        .expect("the charge sets payment-timeout")
        .clone();
    let due_after = timeout
        .due
        .duration_since(charged[0].recorded_at.parse().unwrap());
    assert_eq!(due_after.as_secs(), 15 * 60, "PT15M after the charge");
    let fired = serde_json::to_value(alarm_command("payment", "o-1", &timeout)).unwrap();
    assert_eq!(fired["command"], "TimeOutCharge");
    rig.rig.stack.send(&rig.rig.commands, &fired, None).await;
    // Delivered by hand: the handler's clock says it is due.
    rig.drive_at(Some(timeout.due)).await;

    assert_eq!(state(&rig, "payment", "o-1").await.0, "TimedOut");
    assert_eq!(state(&rig, "order", "o-1").await.0, "Cancelled");
    assert_eq!(
        state(&rig, "inventory", "beans").await.1["stock"],
        10,
        "the stock is released"
    );
    let order: Vec<String> = rig
        .rig
        .events("order", "o-1")
        .await
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    assert_eq!(
        order,
        [
            "OrderCreated",
            "ItemReserved",
            "ReservationCancelled",
            "OrderCancelled"
        ]
    );

    // The provider answers after all: the late charge is refunded, the
    // order stays cancelled.
    rig.rig
        .apply(&[command("payment", "o-1", "ConfirmCharge", json!({}))])
        .await;
    rig.drive().await;
    assert_eq!(state(&rig, "payment", "o-1").await.0, "Refunded");
    assert_eq!(state(&rig, "order", "o-1").await.0, "Cancelled");
    assert_eq!(rig.rig.stack.depth(&rig.rig.dlq).await, (0, 0));
}
