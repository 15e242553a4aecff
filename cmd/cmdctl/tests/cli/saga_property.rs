//! The order saga's invariants for random input (docs/tour.md, "The order saga"):
//! random shops (stock, prices), random orders (item ids valid per the
//! schema and some that are not, quantities in and out of bounds, card or
//! transfer or no method), random provider answers (in time, late, none),
//! and time moved past the payment's timeout, all through `cmdctl exec`,
//! `cmdctl run` and, for the provider's answers, `cmdctl ingest` of its
//! events (each delivered twice, as the bus may) on a local store. Every order the schemas accept ends
//! Confirmed, Rejected or Cancelled; every item's stock is what was
//! restocked minus what confirmed orders took; no payment of an order not
//! confirmed is left charged; nothing is left pending. Input the schemas
//! refuse is refused up front and leaves nothing behind.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};

use crate::harness::*;

/// When the shop opens (every command carries `--now`).
const T0: &str = "2030-01-01T00:00:00Z";
/// In time for the payment's answer (its timeout is 15 minutes).
const IN_TIME: &str = "2030-01-01T00:05:00Z";
/// Past the timeout.
const PAST_TIMEOUT: &str = "2030-01-01T01:00:00Z";
/// A late answer, then the last run.
const LATE: &str = "2030-01-01T01:05:00Z";
const END: &str = "2030-01-01T02:00:00Z";

/// Items restocked in every case; `ghost` is a valid id never restocked.
const ITEMS: [&str; 2] = ["beans", "espresso"];

#[derive(Debug, Clone)]
enum Answer {
    None,
    Confirm { late: bool },
    Decline { late: bool },
}

#[derive(Debug, Clone)]
struct Order {
    item: String,
    quantity: u64,
    method: Option<&'static str>,
    answer: Answer,
}

fn valid_item() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("beans".to_owned()),
        4 => Just("espresso".to_owned()),
        1 => Just("ghost".to_owned()),
        1 => "[A-Za-z0-9][A-Za-z0-9._-]{0,63}",
    ]
}

/// Ids the envelope or the schema refuses (`#`, empty, a space, a non-ASCII
/// letter, longer than 64 characters, a leading dot).
fn invalid_item() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("x#y".to_owned()),
        Just(String::new()),
        Just("two words".to_owned()),
        Just("café".to_owned()),
        Just("a".repeat(65)),
        Just(".hidden".to_owned()),
    ]
}

fn order() -> impl Strategy<Value = Order> {
    let item = prop_oneof![9 => valid_item(), 1 => invalid_item()];
    let quantity = prop_oneof![
        8 => 1u64..=12,
        1 => Just(1_000_000u64),
        1 => prop_oneof![Just(1_000_001u64), Just((1u64 << 53) - 1)],
    ];
    let method = prop_oneof![Just(None), Just(Some("card")), Just(Some("transfer"))];
    let answer = prop_oneof![
        Just(Answer::None),
        any::<bool>().prop_map(|late| Answer::Confirm { late }),
        any::<bool>().prop_map(|late| Answer::Decline { late }),
    ];
    (item, quantity, method, answer).prop_map(|(item, quantity, method, answer)| Order {
        item,
        quantity,
        method,
        answer,
    })
}

/// (quantity, price) of each of [`ITEMS`].
fn shop() -> impl Strategy<Value = Vec<(u64, f64)>> {
    let quantity = prop_oneof![4 => 1u64..=20, 1 => Just(1_000_000u64)];
    let price = prop_oneof![Just(0.5f64), Just(4.0), Just(600.0), Just(1e9)];
    proptest::collection::vec((quantity, price), ITEMS.len())
}

fn accepted(order: &Order) -> bool {
    let id_ok = !order.item.is_empty()
        && order.item.len() <= 64
        && order
            .item
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_alphanumeric() || (i > 0 && matches!(c, '.' | '_' | '-')));
    id_ok && order.quantity <= 1_000_000
}

fn state_of(cli: &Cli, aggregate_type: &str, id: &str) -> Option<Value> {
    let run = cli.run(&["state", aggregate_type, id, "--json"]);
    (run.code == 0).then(|| run.json())
}

/// `run --now NOW --json`: nothing failed transiently, nothing stopped.
fn run_at(cli: &Cli, now: &str) {
    let doc = cli.run(&["run", "--now", now, "--json"]).ok().json();
    assert_eq!(doc["pending"], 0, "{doc}");
    assert_eq!(doc["stopped"], false, "{doc}");
}

/// The provider's answer for `id`, its event ingested twice (the second
/// copy a duplicate, or refused as the first was): refused when the payment
/// is not waiting (a card, an order refused, an answer too late to matter).
fn answer(cli: &Cli, id: &str, command: &str, now: &str) -> Result<(), TestCaseError> {
    let (detail_type, detail) = match command {
        "ConfirmCharge" => (
            "PaymentSucceeded",
            json!({"orderId": id, "reference": "tr"}),
        ),
        _ => ("PaymentFailed", json!({"orderId": id, "reason": "refused"})),
    };
    let event = crate::ingest::provider_event(&format!("{id}-{command}"), detail_type, detail);
    let lines = format!("{event}\n{event}\n");
    let run = cli.run_with_stdin(&["ingest", "--now", now, "--json", "-"], &lines);
    prop_assert!(
        !run.stderr.contains("stays pending") && !run.stderr.contains("failed transiently")
    );
    let outcomes = run.json()["outcomes"].clone();
    let first = &outcomes[0];
    let second = &outcomes[1];
    if first["outcome"] == "applied" {
        prop_assert_eq!(&second["outcome"], "duplicate", "{}", outcomes);
        prop_assert_eq!(&second["version"], &first["version"]);
    } else {
        prop_assert_eq!(&second["reasonCode"], &first["reasonCode"], "{}", outcomes);
    }
    Ok(())
}

fn one_case(shop: &[(u64, f64)], orders: &[Order]) -> Result<(), TestCaseError> {
    let cli = Cli::new();
    for (item, (quantity, price)) in ITEMS.iter().zip(shop) {
        let payload = json!({ "quantity": quantity, "price": price }).to_string();
        cli.run(&[
            "exec",
            "inventory",
            item,
            "Restock",
            "--payload",
            &payload,
            "--now",
            T0,
        ])
        .ok();
    }
    for (n, order) in orders.iter().enumerate() {
        let id = format!("p-{n}");
        let mut payload = json!({ "itemId": order.item, "quantity": order.quantity });
        if let Some(method) = order.method {
            payload["paymentMethod"] = json!(method);
        }
        let run = cli.run(&[
            "exec",
            "order",
            &id,
            "CreateOrder",
            "--payload",
            &payload.to_string(),
            "--now",
            T0,
            "--json",
        ]);
        if accepted(order) {
            prop_assert_eq!(run.code, 0, "{:?}: {}{}", order, run.stdout, run.stderr);
            prop_assert_eq!(&run.json()["reactions"]["pending"], &json!(0));
        } else {
            prop_assert_eq!(run.code, 1, "refused up front: {:?}", order);
            prop_assert!(run.stderr.contains("schema"), "{}", run.stderr);
            prop_assert!(state_of(&cli, "order", &id).is_none(), "nothing written");
        }
    }
    for late in [false, true] {
        for (n, order) in orders.iter().enumerate() {
            let command = match order.answer {
                Answer::Confirm { late: l } if l == late => "ConfirmCharge",
                Answer::Decline { late: l } if l == late => "DeclineCharge",
                _ => continue,
            };
            if accepted(order) {
                answer(
                    &cli,
                    &format!("p-{n}"),
                    command,
                    if late { LATE } else { IN_TIME },
                )?;
            }
        }
        run_at(&cli, if late { END } else { PAST_TIMEOUT });
    }

    let mut taken = [0u64; ITEMS.len()];
    for (n, order) in orders.iter().enumerate().filter(|(_, o)| accepted(o)) {
        let id = format!("p-{n}");
        let state = state_of(&cli, "order", &id).expect("an accepted order");
        let state = state["state"].as_str().expect("a state").to_owned();
        prop_assert!(
            ["Confirmed", "Rejected", "Cancelled"].contains(&state.as_str()),
            "{:?} ended {}",
            order,
            state
        );
        let payment = state_of(&cli, "payment", &id).map(|p| p["state"].clone());
        if state == "Confirmed" {
            if let Some(i) = ITEMS.iter().position(|item| *item == order.item) {
                taken[i] += order.quantity;
            }
            prop_assert_eq!(payment, Some(json!("Charged")), "{:?}", order);
        } else {
            prop_assert_ne!(
                payment,
                Some(json!("Charged")),
                "{:?} ended {}",
                order,
                state
            );
        }
    }
    for (i, item) in ITEMS.iter().enumerate() {
        let stock = state_of(&cli, "inventory", item).expect("restocked")["data"]["stock"].clone();
        prop_assert_eq!(
            stock,
            json!(shop[i].0 - taken[i]),
            "the stock of {} is back",
            item
        );
    }
    if let Some(ghost) = state_of(&cli, "inventory", "ghost") {
        prop_assert_eq!(&ghost["data"]["stock"], &Value::Null, "{}", ghost);
    }
    Ok(())
}

#[test]
fn every_accepted_order_ends_and_the_stock_is_back() {
    // Each case spawns `cmdctl` some twenty times: a bounded number of
    // cases keeps this well under a minute on a busy machine.
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (shop(), proptest::collection::vec(order(), 1..=3));
    runner
        .run(&strategy, |(shop, orders)| one_case(&shop, &orders))
        .unwrap_or_else(|err| panic!("{err}"));
}
