//! The order saga's transfer paths (docs/tour.md, "The order saga") driven
//! by the payment provider's events, ingested as the bindings' EventBridge
//! rules would deliver them (config/payment.json binds `PaymentSucceeded`
//! and `PaymentFailed` of `payments.provider`): the final states, the
//! saga's invariants, the path each event's correlation follows, and an
//! event delivered twice applied once.

use serde_json::{Value, json};

use crate::harness::*;
use crate::ingest::provider_event;
use crate::saga::{invariants_hold, path_of, place_by_transfer, restock, state, steps, stock};

/// `ingest --json` of `events` as JSON lines, each delivered twice (the bus
/// delivers at least once), with the clock at `now` when given: every
/// first copy applied, every second a duplicate, the reactions quiet.
fn ingest_twice(cli: &Cli, events: &[String], now: Option<&str>) -> Value {
    let lines: Vec<&str> = events
        .iter()
        .flat_map(|e| [e.as_str(), e.as_str()])
        .collect();
    let mut args = vec!["ingest", "--json", "-"];
    if let Some(now) = now {
        args.extend(["--now", now]);
    }
    let doc = cli.run_with_stdin(&args, &lines.join("\n")).ok().json();
    let outcomes: Vec<(&str, bool)> = doc["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .map(|o| (o["outcome"].as_str().unwrap(), o["duplicate"] == true))
        .collect();
    let want: Vec<(&str, bool)> = events
        .iter()
        .flat_map(|_| [("applied", false), ("duplicate", true)])
        .collect();
    assert_eq!(outcomes, want, "{doc}");
    assert_eq!(doc["reactions"]["failed"], 0, "{doc}");
    assert_eq!(doc["reactions"]["pending"], 0, "{doc}");
    doc
}

/// `trace ID --json`'s path: the correlation an ingested event starts
/// (its id, as it carries none of its own).
fn event_path(cli: &Cli, event_id: &str) -> Vec<(String, String)> {
    path_of(&cli.run(&["trace", event_id, "--json"]).ok().json())
}

#[test]
fn a_provider_success_confirms_the_transfer_order_once() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "i-1", "beans", 2);
    assert_eq!(state(&cli, "payment", "i-1").unwrap()["state"], "Pending");
    let succeeded = provider_event(
        "ev-ok-1",
        "PaymentSucceeded",
        json!({"orderId": "i-1", "reference": "tr_1"}),
    );
    ingest_twice(&cli, &[succeeded], None);

    let payment = state(&cli, "payment", "i-1").unwrap();
    assert_eq!(payment["state"], "Charged");
    assert_eq!(payment["data"]["reference"], "tr_1");
    assert_eq!(state(&cli, "order", "i-1").unwrap()["state"], "Confirmed");
    assert_eq!(stock(&cli, "beans"), 8);
    invariants_hold(&cli, &[("i-1", "beans", 2)]);
    assert_eq!(
        event_path(&cli, "ev-ok-1"),
        steps(&[
            ("payment#i-1", "ChargeConfirmed"),
            ("order#i-1", "PaymentProcessed"),
            ("order#i-1", "OrderConfirmed"),
        ])
    );
    // The timeout was cleared: nothing fires past it.
    let run = cli.run(&["run", "--now", "+PT16M", "--json"]).ok().json();
    assert_eq!(run["alarms"], 0, "{run}");
    invariants_hold(&cli, &[("i-1", "beans", 2)]);
}

#[test]
fn a_provider_failure_releases_the_stock_and_cancels_once() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "i-2", "beans", 3);
    assert_eq!(stock(&cli, "beans"), 7);
    let failed = provider_event(
        "ev-fail-2",
        "PaymentFailed",
        json!({"orderId": "i-2", "reason": "insufficient funds"}),
    );
    ingest_twice(&cli, &[failed], None);

    let payment = state(&cli, "payment", "i-2").unwrap();
    assert_eq!(payment["state"], "Declined");
    assert_eq!(payment["data"]["reason"], "insufficient funds");
    let order = state(&cli, "order", "i-2").unwrap();
    assert_eq!(order["state"], "Cancelled");
    assert_eq!(order["data"]["reason"], "payment declined");
    assert_eq!(stock(&cli, "beans"), 10);
    invariants_hold(&cli, &[("i-2", "beans", 3)]);
    assert_eq!(
        event_path(&cli, "ev-fail-2"),
        steps(&[
            ("payment#i-2", "ChargeFailed"),
            ("order#i-2", "ReservationCancelled"),
            ("inventory#beans", "StockReleased"),
            ("order#i-2", "OrderCancelled"),
        ])
    );
}

#[test]
fn answers_for_several_orders_in_one_batch_and_a_late_one_keep_the_invariants() {
    let cli = Cli::new();
    restock(&cli);
    for id in ["i-3", "i-4", "i-5"] {
        place_by_transfer(&cli, id, "beans", 1);
    }
    // i-5's provider never answers in time: its timeout cancels it.
    ingest_twice(
        &cli,
        &[
            provider_event(
                "ev-3",
                "PaymentSucceeded",
                json!({"orderId": "i-3", "reference": "r3"}),
            ),
            provider_event("ev-4", "PaymentFailed", json!({"orderId": "i-4"})),
        ],
        None,
    );
    cli.run(&["run", "--now", "+PT16M"]).ok();
    assert_eq!(state(&cli, "payment", "i-5").unwrap()["state"], "TimedOut");
    // Its late success is refunded at once; the order stays cancelled.
    ingest_twice(
        &cli,
        &[provider_event(
            "ev-5",
            "PaymentSucceeded",
            json!({"orderId": "i-5", "reference": "r5"}),
        )],
        Some("+PT20M"),
    );
    assert_eq!(state(&cli, "payment", "i-5").unwrap()["state"], "Refunded");
    let ends: Vec<Value> = ["i-3", "i-4", "i-5"]
        .iter()
        .map(|id| state(&cli, "order", id).unwrap()["state"].clone())
        .collect();
    assert_eq!(
        ends,
        [json!("Confirmed"), json!("Cancelled"), json!("Cancelled")]
    );
    assert_eq!(
        state(&cli, "payment", "i-4").unwrap()["data"]["reason"],
        "declined by the provider"
    );
    invariants_hold(
        &cli,
        &[
            ("i-3", "beans", 1),
            ("i-4", "beans", 1),
            ("i-5", "beans", 1),
        ],
    );
}
