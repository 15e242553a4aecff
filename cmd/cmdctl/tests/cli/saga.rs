//! The order saga of `config/` (docs/tour.md, "The order saga"), on a local store:
//! each path from ONE command (`exec` runs the reactions until quiet), the
//! final states of the three aggregates, the invariants, `trace` in order,
//! and every command delivered twice applied once. The payment timeout's
//! paths (a transfer the provider answers late or never) are in
//! `alarms.rs`, with these helpers.

use serde_json::{Value, json};

use crate::harness::*;

/// beans: 10 at 4 (an order of 2 costs 8); espresso: 5 at 600 (1 costs
/// 600, over the review limit of 500; 2 cost 1200, over the card's limit
/// of 1000).
pub(crate) const SHOP: [(&str, u64, u64); 2] = [("beans", 10, 4), ("espresso", 5, 600)];

pub(crate) fn restock(cli: &Cli) {
    for (item, quantity, price) in SHOP {
        let payload = json!({ "quantity": quantity, "price": price }).to_string();
        cli.run(&[
            "exec",
            "inventory",
            item,
            "Restock",
            "--payload",
            &payload,
            "--command-id",
            &format!("restock-{item}"),
        ])
        .ok();
    }
}

/// `CreateOrder` as one `exec` (correlation id `place-ID`): the saga runs
/// to its end, quiet, with no reaction refused or unbuilt.
pub(crate) fn place(cli: &Cli, id: &str, item: &str, quantity: u64) -> Value {
    let payload = json!({ "itemId": item, "quantity": quantity });
    place_order(cli, id, &payload)
}

/// [`place`], paid by a bank transfer, which waits for the payment
/// provider's answer (`ConfirmCharge` or `DeclineCharge`) up to its timeout.
pub(crate) fn place_by_transfer(cli: &Cli, id: &str, item: &str, quantity: u64) -> Value {
    let payload = json!({ "itemId": item, "quantity": quantity, "paymentMethod": "transfer" });
    place_order(cli, id, &payload)
}

fn place_order(cli: &Cli, id: &str, payload: &Value) -> Value {
    let payload = payload.to_string();
    let doc = cli
        .run(&[
            "exec",
            "order",
            id,
            "CreateOrder",
            "--payload",
            &payload,
            "--command-id",
            &format!("place-{id}"),
            "--json",
        ])
        .ok()
        .json();
    let reactions = &doc["reactions"];
    assert_eq!(reactions["stopped"], false, "{doc}");
    assert_eq!(reactions["failed"], 0, "{doc}");
    assert_eq!(reactions["notBuilt"], 0, "{doc}");
    doc
}

/// `state TYPE ID --json`, or `None` when the aggregate has no events.
pub(crate) fn state(cli: &Cli, aggregate_type: &str, id: &str) -> Option<Value> {
    let run = cli.run(&["state", aggregate_type, id, "--json"]);
    (run.code == 0).then(|| run.json())
}

pub(crate) fn stock(cli: &Cli, item: &str) -> i64 {
    let item = state(cli, "inventory", item).expect("a restocked item");
    item["data"]["stock"].as_i64().expect("a stock")
}

/// `trace place-ID`: (aggregate, eventType) in order, each event once;
/// the walk from the order (`--root`) finds the same.
pub(crate) fn path(cli: &Cli, id: &str) -> Vec<(String, String)> {
    let correlation = format!("place-{id}");
    let walked = cli
        .run(&["trace", &correlation, "--root", "order", id, "--json"])
        .ok()
        .json();
    let doc = traced(cli, id);
    assert_eq!(walked, doc);
    path_of(&doc)
}

/// `trace place-ID --json` (the scan of the correlation).
pub(crate) fn traced(cli: &Cli, id: &str) -> Value {
    let correlation = format!("place-{id}");
    cli.run(&["trace", &correlation, "--json"]).ok().json()
}

/// (aggregate, eventType) of each event of a `trace --json` document.
pub(crate) fn path_of(doc: &Value) -> Vec<(String, String)> {
    doc["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                format!(
                    "{}#{}",
                    e["aggregateType"].as_str().unwrap(),
                    e["aggregateId"].as_str().unwrap()
                ),
                e["eventType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

pub(crate) fn steps(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, e)| ((*a).to_owned(), (*e).to_owned()))
        .collect()
}

/// Every order in a final state; a charge only for a confirmed order; each
/// item's stock what it was, less what confirmed orders took.
pub(crate) fn invariants_hold(cli: &Cli, orders: &[(&str, &str, u64)]) {
    let mut taken = std::collections::HashMap::<&str, u64>::new();
    for &(id, item, quantity) in orders {
        let order = state(cli, "order", id).expect("the order exists");
        let final_state = order["state"].as_str().unwrap();
        assert!(
            ["Confirmed", "Rejected", "Cancelled"].contains(&final_state),
            "{id} ends in {final_state}"
        );
        let payment = state(cli, "payment", id);
        let charged = payment.as_ref().is_some_and(|p| p["state"] == "Charged");
        assert_eq!(charged, final_state == "Confirmed", "{id}: {payment:?}");
        if final_state == "Confirmed" {
            *taken.entry(item).or_default() += quantity;
        }
    }
    for (item, quantity, _) in SHOP {
        let left = quantity - taken.get(item).copied().unwrap_or(0);
        assert_eq!(stock(cli, item), left as i64, "{item}");
    }
}

#[test]
fn the_happy_path_reserves_charges_and_confirms() {
    let cli = Cli::new();
    restock(&cli);
    let doc = place(&cli, "o-1", "beans", 2);
    assert_eq!(doc["reactions"]["applied"], 5, "{doc}");

    let order = state(&cli, "order", "o-1").unwrap();
    assert_eq!(order["state"], "Confirmed");
    assert_eq!(order["data"]["amount"], 8);
    let payment = state(&cli, "payment", "o-1").unwrap();
    assert_eq!(payment["state"], "Charged");
    assert_eq!(payment["data"]["amount"], 8);
    assert_eq!(stock(&cli, "beans"), 8);
    invariants_hold(&cli, &[("o-1", "beans", 2)]);

    assert_eq!(
        path(&cli, "o-1"),
        steps(&[
            ("order#o-1", "OrderCreated"),
            ("inventory#beans", "StockReserved"),
            ("order#o-1", "ItemReserved"),
            ("payment#o-1", "ChargeAccepted"),
            ("order#o-1", "PaymentProcessed"),
            ("order#o-1", "OrderConfirmed"),
        ])
    );
    // The stored reservation holds the computed stock: a replay folds it
    // without evaluating anything.
    let reserved = &cli.events("inventory", "beans")[1];
    assert_eq!(reserved["payload"]["stock"], 8);
}

#[test]
fn out_of_stock_rejects_the_order_and_charges_nothing() {
    let cli = Cli::new();
    restock(&cli);
    place(&cli, "o-2", "beans", 11);

    let order = state(&cli, "order", "o-2").unwrap();
    assert_eq!(order["state"], "Rejected");
    assert_eq!(order["data"]["reason"], "out of stock");
    assert_eq!(state(&cli, "payment", "o-2"), None, "nothing charged");
    assert_eq!(stock(&cli, "beans"), 10);
    invariants_hold(&cli, &[("o-2", "beans", 11)]);
    assert_eq!(
        path(&cli, "o-2"),
        steps(&[
            ("order#o-2", "OrderCreated"),
            ("inventory#beans", "StockShortage"),
            ("order#o-2", "OrderRejected"),
        ])
    );
    // An item never restocked has no stock at all: the same rejection.
    place(&cli, "o-3", "tea", 1);
    assert_eq!(state(&cli, "order", "o-3").unwrap()["state"], "Rejected");
}

#[test]
fn a_declined_payment_releases_the_stock_and_cancels_the_order() {
    let cli = Cli::new();
    restock(&cli);
    place(&cli, "o-4", "espresso", 2);

    let order = state(&cli, "order", "o-4").unwrap();
    assert_eq!(order["state"], "Cancelled");
    assert_eq!(order["data"]["reason"], "payment declined");
    assert_eq!(state(&cli, "payment", "o-4").unwrap()["state"], "Declined");
    assert_eq!(stock(&cli, "espresso"), 5);
    invariants_hold(&cli, &[("o-4", "espresso", 2)]);
    assert_eq!(
        path(&cli, "o-4"),
        steps(&[
            ("order#o-4", "OrderCreated"),
            ("inventory#espresso", "StockReserved"),
            ("order#o-4", "ItemReserved"),
            ("payment#o-4", "ChargeDeclined"),
            ("order#o-4", "ReservationCancelled"),
            ("inventory#espresso", "StockReleased"),
            ("order#o-4", "OrderCancelled"),
        ])
    );
}

#[test]
fn a_refused_confirmation_refunds_releases_and_cancels() {
    let cli = Cli::new();
    restock(&cli);
    place(&cli, "o-5", "espresso", 1);

    let order = state(&cli, "order", "o-5").unwrap();
    assert_eq!(order["state"], "Cancelled");
    assert_eq!(order["data"]["reason"], "confirmation refused");
    assert_eq!(state(&cli, "payment", "o-5").unwrap()["state"], "Refunded");
    assert_eq!(stock(&cli, "espresso"), 5);
    invariants_hold(&cli, &[("o-5", "espresso", 1)]);
    assert_eq!(
        path(&cli, "o-5"),
        steps(&[
            ("order#o-5", "OrderCreated"),
            ("inventory#espresso", "StockReserved"),
            ("order#o-5", "ItemReserved"),
            ("payment#o-5", "ChargeAccepted"),
            ("order#o-5", "PaymentProcessed"),
            ("order#o-5", "ConfirmationRefused"),
            ("payment#o-5", "ChargeRefunded"),
            ("order#o-5", "PaymentRefunded"),
            ("order#o-5", "ReservationCancelled"),
            ("inventory#espresso", "StockReleased"),
            ("order#o-5", "OrderCancelled"),
        ])
    );
}

#[test]
fn mixed_orders_on_one_store_keep_the_invariants() {
    let cli = Cli::new();
    restock(&cli);
    let orders = [
        ("m-1", "beans", 3),
        ("m-2", "espresso", 1),
        ("m-3", "beans", 8),
        ("m-4", "espresso", 2),
        ("m-5", "beans", 4),
        ("m-6", "beans", 3),
    ];
    for (id, item, quantity) in orders {
        place(&cli, id, item, quantity);
    }
    let ends: Vec<Value> = orders
        .iter()
        .map(|(id, ..)| state(&cli, "order", id).unwrap()["state"].clone())
        .collect();
    // beans: 10 -> 7 (m-1); m-3 wants 8 of 7: rejected; 7 -> 3 (m-5); m-6
    // wants 3 of 3.
    assert_eq!(
        ends,
        [
            "Confirmed",
            "Cancelled",
            "Rejected",
            "Cancelled",
            "Confirmed",
            "Confirmed"
        ]
    );
    invariants_hold(&cli, &orders);
}

/// Every command twice: the order's command in a batch that holds it twice,
/// then each reaction from two processors (checkpoints `local` and `twin`),
/// one round at a time in turn, as two deliveries of every stream record
/// would. Each step applies once; the second copy of each is a duplicate.
#[test]
fn every_command_delivered_twice_applies_each_step_once() {
    let cli = Cli::new();
    restock(&cli);
    let body = json!({
        "commandId": "place-d-1", "aggregateType": "order", "aggregateId": "d-1",
        "command": "CreateOrder", "payload": { "itemId": "beans", "quantity": 2 }
    })
    .to_string();
    let records: Vec<Value> = ["first", "second"]
        .iter()
        .map(|copy| json!({ "messageId": format!("{copy}-copy"), "body": body, "eventSource": "aws:sqs" }))
        .collect();
    let batch = cli.dir.path().join("twice.json");
    std::fs::write(&batch, json!({ "Records": records }).to_string()).unwrap();
    let run = cli
        .run(&["process", "--no-react", batch.to_str().unwrap()])
        .ok();
    assert!(
        run.message_line("first-copy").ends_with(" applied v1"),
        "{}",
        run.stdout
    );
    assert!(
        run.message_line("second-copy").ends_with(" duplicate v1"),
        "{}",
        run.stdout
    );

    let mut totals = [0_u64; 3]; // commands, applied, duplicates
    let mut quiet_in_a_row = 0;
    let mut turns = 0;
    while quiet_in_a_row < 2 {
        turns += 1;
        assert!(turns <= 40, "the chain does not end");
        let checkpoint = if turns % 2 == 1 { "local" } else { "twin" };
        let run = cli.run(&[
            "run",
            "--checkpoint",
            checkpoint,
            "--max-rounds",
            "1",
            "--json",
        ]);
        assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
        let doc = run.json();
        assert_eq!(doc["failed"], 0, "{doc}");
        for (total, field) in totals.iter_mut().zip(["commands", "applied", "duplicates"]) {
            *total += doc[field].as_u64().unwrap();
        }
        quiet_in_a_row = if doc["events"] == 0 {
            quiet_in_a_row + 1
        } else {
            0
        };
    }
    // Reserve, ReserveItem, Charge, ProcessPayment, ConfirmOrder: each
    // delivered twice, applied once.
    assert_eq!(totals, [10, 5, 5]);
    let order = state(&cli, "order", "d-1").unwrap();
    assert_eq!(
        (&order["state"], &order["version"]),
        (&json!("Confirmed"), &json!(4))
    );
    assert_eq!(state(&cli, "payment", "d-1").unwrap()["version"], 1);
    assert_eq!(
        cli.events("inventory", "beans").len(),
        2,
        "restock, reserve"
    );
    invariants_hold(&cli, &[("d-1", "beans", 2)]);
}
