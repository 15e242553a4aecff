//! The alarms due by the runtime's clock fire through the same handler,
//! once each.

use local_runtime::CHECKPOINT;
use serde_json::json;

use crate::setup::{World, command};

/// A stocked item and an order paid by transfer: the payment waits, with
/// its alarm `payment-timeout` due in 15 minutes.
async fn waiting_transfer(world: &World) -> local_runtime::LocalRuntime {
    let runtime = world.runtime();
    runtime
        .submit(command(
            "inventory",
            "beans",
            "Restock",
            json!({ "quantity": 10, "price": 4 }),
        ))
        .await
        .expect("ran");
    let placed = runtime
        .submit(command(
            "order",
            "o-1",
            "CreateOrder",
            json!({ "itemId": "beans", "quantity": 2, "paymentMethod": "transfer" }),
        ))
        .await
        .expect("ran");
    assert!(placed.reactions.quiet(), "{:?}", placed.reactions);
    assert_eq!(placed.reactions.alarms, 0, "nothing is due yet");
    assert_eq!(world.state("payment", "o-1").await.state, "Pending");
    runtime
}

#[tokio::test]
async fn a_due_alarm_fires_in_the_run_and_its_reactions_follow() {
    let world = World::new();
    let runtime = waiting_transfer(&world).await;

    // 14 minutes on: still nothing due.
    world.clock.set("2030-01-01T00:14:00Z");
    let early = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!((early.alarms, early.commands), (0, 0), "{early:?}");

    // 16 minutes on: the timeout fires, and releases the stock.
    world.clock.set("2030-01-01T00:16:00Z");
    let report = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(report.alarms, 1, "{report:?}");
    assert_eq!(report.fired.len(), 1);
    let fired = &report.fired[0];
    assert_eq!(
        (fired.aggregate.as_str(), fired.alarm.as_str()),
        ("payment#o-1", "payment-timeout")
    );
    assert_eq!(
        (fired.command.as_str(), fired.outcome),
        ("TimeOutCharge", "applied")
    );
    assert!(
        report.to_string().starts_with(&format!("{fired}\n")),
        "the fired alarm's line comes first: {report}"
    );
    assert!(report.quiet(), "{report:?}");
    assert_eq!(world.state("payment", "o-1").await.state, "TimedOut");
    assert_eq!(world.state("order", "o-1").await.state, "Cancelled");
    assert_eq!(world.state("inventory", "beans").await.data["stock"], 10);

    // Delivered once: it does not fire again.
    let again = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(again.alarms, 0, "{again:?}");
}

#[tokio::test]
async fn fire_due_alarms_fires_by_the_clock_and_leaves_the_reactions() {
    let world = World::new();
    let runtime = waiting_transfer(&world).await;
    let none = runtime.fire_due_alarms().await.expect("fired");
    assert_eq!(none.alarms, 0, "{none:?}");
    world.clock.set("2030-01-01T00:16:00Z");
    let report = runtime.fire_due_alarms().await.expect("fired");
    assert_eq!((report.alarms, report.applied), (1, 1), "{report:?}");
    assert_eq!(report.rounds, 0);
    assert_eq!(world.state("payment", "o-1").await.state, "TimedOut");
    assert_eq!(
        world.state("order", "o-1").await.state,
        "Reserved",
        "the reactions wait for the next run"
    );
    let run = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(run.alarms, 0, "fired once: {run:?}");
    assert_eq!(world.state("order", "o-1").await.state, "Cancelled");
}
