//! The order's reservation timeout (docs/tour.md, "The order saga"): an order
//! whose reservation is not answered within 15 minutes is cancelled, and a
//! reservation that arrives after that gives its stock back.

use serde_json::{Value, json};

use crate::harness::*;

const T0: &str = "2030-01-01T00:00:00Z";
const PAST_TIMEOUT: &str = "2030-01-01T01:00:00Z";

fn state_of(cli: &Cli, args: &[&str], aggregate_type: &str, id: &str) -> Value {
    let mut all = args.to_vec();
    all.extend(["state", aggregate_type, id, "--json"]);
    cli.run(&all).ok().json()
}

#[test]
fn an_unanswered_reservation_cancels_the_order_and_a_late_one_returns_the_stock() {
    let cli = Cli::new();
    let config = cli.dir.path().join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    for entry in std::fs::read_dir(config_dir()).expect("config/") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), config.join(entry.file_name())).expect("copied");
    }
    let dir = ["--config-dir", config.to_str().expect("utf-8 path")];
    let with = |args: &[&str]| {
        let mut all = dir.to_vec();
        all.extend_from_slice(args);
        cli.run(&all)
    };
    let restock = json!({ "quantity": 10, "price": 4 }).to_string();
    with(&[
        "exec",
        "inventory",
        "beans",
        "Restock",
        "--payload",
        &restock,
        "--now",
        T0,
    ])
    .ok();

    // The inventory cannot answer (its config is broken): the Reserve stays
    // pending, and the order waits in Created with its timeout set.
    let inventory = config.join("inventory.json");
    let good = std::fs::read_to_string(&inventory).expect("inventory.json");
    std::fs::write(&inventory, "{\"broken").expect("broken");
    let order = json!({ "itemId": "beans", "quantity": 2 }).to_string();
    let placed = with(&[
        "exec",
        "order",
        "o-1",
        "CreateOrder",
        "--payload",
        &order,
        "--now",
        T0,
    ]);
    assert_eq!(
        placed.code, 1,
        "the Reserve is left pending:\n{}",
        placed.stderr
    );
    let waiting = state_of(&cli, &dir, "order", "o-1");
    assert_eq!(waiting["state"], "Created");
    assert!(
        waiting["alarms"]["reservation-timeout"].is_object(),
        "{waiting}"
    );

    // Past the timeout: the order is cancelled though the inventory never
    // answered.
    let timed_out = with(&["run", "--now", PAST_TIMEOUT, "--json"]);
    assert_eq!(timed_out.code, 1, "the Reserve is still pending");
    assert_eq!(timed_out.json()["alarms"], 1, "{}", timed_out.stdout);
    assert_eq!(state_of(&cli, &dir, "order", "o-1")["state"], "Cancelled");

    // The inventory comes back: the Reserve takes the stock, and its late
    // answer gives it back.
    std::fs::write(&inventory, good).expect("restored");
    let late = with(&["run", "--now", PAST_TIMEOUT, "--json"]).ok().json();
    assert_eq!(late["failed"], 0, "{late}");
    assert_eq!(late["pending"], 0, "{late}");
    let order = state_of(&cli, &dir, "order", "o-1");
    assert_eq!(order["state"], "Cancelled", "{order}");
    let item = state_of(&cli, &dir, "inventory", "beans");
    assert_eq!(item["data"]["stock"], 10, "the stock is back: {item}");
    let events: Vec<String> = with(&["events", "inventory", "beans", "--json"])
        .ok()
        .json()
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["eventType"].as_str().expect("a type").to_owned())
        .collect();
    assert_eq!(events, ["StockAdded", "StockReserved", "StockReturned"]);

    // Returned once: another ReserveItem (by hand) returns nothing more.
    let again = with(&["exec", "order", "o-1", "ReserveItem", "--now", PAST_TIMEOUT]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert!(
        again.stderr.contains("returns a late reservation"),
        "{}",
        again.stderr
    );
    let item = state_of(&cli, &dir, "inventory", "beans");
    assert_eq!(item["data"]["stock"], 10, "{item}");
}
