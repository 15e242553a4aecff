//! The order saga to its end, and what the report counts.

use local_runtime::CHECKPOINT;
use serde_json::json;

use crate::setup::{World, command};

#[tokio::test]
async fn a_submitted_order_runs_its_saga_to_the_end() {
    let world = World::new();
    let runtime = world.runtime();
    let stocked = runtime
        .submit(command(
            "inventory",
            "beans",
            "Restock",
            json!({ "quantity": 10, "price": 4 }),
        ))
        .await
        .expect("ran");
    assert!(stocked.batch.outcomes[0].result.is_ok());
    assert_eq!(stocked.reactions.commands, 0, "a restock starts nothing");

    let placed = runtime
        .submit(command(
            "order",
            "o-1",
            "CreateOrder",
            json!({ "itemId": "beans", "quantity": 2 }),
        ))
        .await
        .expect("ran");
    assert!(placed.batch.outcomes[0].result.is_ok());
    let report = placed.reactions;
    // Reserve, ReserveItem, Charge, ProcessPayment, ConfirmOrder.
    assert_eq!(report.applied, 5, "{report:?}");
    assert_eq!(report.commands, 5, "{report:?}");
    assert_eq!(report.failed + report.duplicates + report.stale, 0);
    assert_eq!(report.rounds, 5, "one step a round: {report:?}");
    assert_eq!(
        report.events, 6,
        "OrderCreated and the five steps' events (the restock's was read by its own run): {report:?}"
    );
    assert_eq!(report.not_built, 0);
    assert!(report.quiet(), "{report:?}");
    assert!(report.notices.is_empty(), "{:?}", report.notices);
    assert_eq!(world.state("order", "o-1").await.state, "Confirmed");
    assert_eq!(world.state("inventory", "beans").await.data["stock"], 8);

    // The text form ends with the summary line.
    let text = report.to_string();
    assert_eq!(
        text.lines().last(),
        Some(report.summary().as_str()),
        "{text}"
    );
    assert!(
        text.starts_with("reactions: 5 rounds, 6 events read, "),
        "{text}"
    );

    // Quiet: a further run reads nothing and runs nothing.
    let again = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!((again.events, again.commands, again.rounds), (0, 0, 0));
}

#[tokio::test]
async fn a_refused_step_is_counted_and_noticed_with_its_reason() {
    let world = World::new();
    let runtime = world.runtime();
    // No stock: the reservation is refused as a shortage, which rejects the
    // order; the hand-sent ReserveItem moved the order on first, so the
    // RejectOrder is refused, and named.
    runtime
        .handle(command(
            "order",
            "o-2",
            "CreateOrder",
            json!({ "itemId": "kettle", "quantity": 1 }),
        ))
        .await;
    let moved = runtime
        .handle(command(
            "order",
            "o-2",
            "ReserveItem",
            json!({ "amount": 5 }),
        ))
        .await;
    assert!(moved.outcomes[0].result.is_ok(), "{:?}", moved.outcomes);
    let report = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert!(report.failed >= 1, "{report:?}");
    let named = report.notices.iter().any(|n| {
        matches!(n, local_runtime::Notice::Failed { aggregate, command, outcome, .. }
            if aggregate == "order#o-2" && command == "RejectOrder"
                && outcome.starts_with("rejected [invalid_transition]: "))
    });
    assert!(named, "{:?}", report.notices);
    assert!(report.finished(), "a refusal is final: {report:?}");
}
