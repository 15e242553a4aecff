//! Every config shipped in the repository's `config/` directory is valid.

use std::path::Path;

use serde_json::json;
use state_machine::StateMachine;

use crate::obj;

fn config_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

fn load(name: &str) -> StateMachine {
    let path = config_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    StateMachine::from_json(&bytes).unwrap_or_else(|err| panic!("{}:\n{err}", path.display()))
}

#[test]
fn every_shipped_config_is_valid() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(config_dir()).expect("config/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_some_and(|ext| ext == "json") {
            let name = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let m = load(&name);
            assert_eq!(
                format!("{}.json", m.aggregate_type()),
                name,
                "file named for its aggregate type"
            );
            seen.push(name);
        }
    }
    seen.sort();
    assert!(
        seen.len() >= 2,
        "expected order.json and ticket.json, found {seen:?}"
    );
}

#[test]
fn an_order_goes_through_its_happy_path() {
    let m = load("order.json");
    let mut order = m.initial_state();
    for (command, payload, event) in [
        (
            "CreateOrder",
            json!({ "itemId": "sku-1", "quantity": 2 }),
            "OrderCreated",
        ),
        ("ReserveItem", json!({}), "ItemReserved"),
        (
            "ProcessPayment",
            json!({ "amount": 19.5, "currency": "EUR" }),
            "PaymentProcessed",
        ),
        ("ConfirmOrder", json!({}), "OrderConfirmed"),
    ] {
        let payload = obj(payload);
        let decision = m
            .decide(&order, command, &payload)
            .unwrap_or_else(|r| panic!("{command}: {r}"));
        assert_eq!(decision.event_type, event);
        order.apply(&decision.to_state, &payload);
    }
    assert_eq!((order.state.as_str(), order.version), ("Confirmed", 4));
    assert_eq!(
        order.data,
        obj(json!({ "itemId": "sku-1", "quantity": 2, "amount": 19.5, "currency": "EUR" }))
    );
}

#[test]
fn an_order_compensates_back_to_cancelled() {
    let m = load("order.json");
    let mut order = m.initial_state();
    order.apply("Paid", &obj(json!({})));
    for (command, to) in [
        ("RefundPayment", "Refunded"),
        ("CancelReservation", "Released"),
        ("CancelOrder", "Cancelled"),
    ] {
        let decision = m
            .decide(&order, command, &obj(json!({})))
            .unwrap_or_else(|r| panic!("{command}: {r}"));
        assert_eq!(decision.to_state, to);
        order.apply(&decision.to_state, &obj(json!({})));
    }
    assert!(
        m.decide(&order, "CancelOrder", &obj(json!({ "reason": 5 })))
            .is_err()
    );
}

#[test]
fn order_payment_schema_checks_amount_and_currency() {
    let m = load("order.json");
    let mut reserved = m.initial_state();
    reserved.apply("Reserved", &obj(json!({})));
    for bad in [
        json!({ "amount": 0, "currency": "EUR" }),
        json!({ "amount": 10, "currency": "EURO" }),
        json!({ "amount": "10", "currency": "EUR" }),
        json!({ "currency": "EUR" }),
    ] {
        assert!(
            m.decide(&reserved, "ProcessPayment", &obj(bad.clone()))
                .is_err(),
            "accepted {bad}"
        );
    }
}

#[test]
fn a_ticket_loops_on_open_and_reopens() {
    let m = load("ticket.json");
    let mut ticket = m.initial_state();
    for (command, payload, to) in [
        ("OpenTicket", json!({ "title": "Printer on fire" }), "Open"),
        ("Comment", json!({ "text": "still burning" }), "Open"),
        ("Assign", json!({ "assignee": "ada" }), "Open"),
        ("Resolve", json!({}), "Resolved"),
        ("Reopen", json!({}), "Open"),
        ("Resolve", json!({}), "Resolved"),
        ("Close", json!({}), "Closed"),
    ] {
        let payload = obj(payload);
        let decision = m
            .decide(&ticket, command, &payload)
            .unwrap_or_else(|r| panic!("{command}: {r}"));
        assert_eq!(decision.to_state, to);
        ticket.apply(&decision.to_state, &payload);
    }
    assert_eq!(ticket.version, 7);
    let open = {
        let mut t = m.initial_state();
        t.apply("Open", &obj(json!({})));
        t
    };
    assert!(m.decide(&open, "Comment", &obj(json!({}))).is_err());
}
