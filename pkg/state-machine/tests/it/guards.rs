//! Guards and `set` (docs/reference.md §2): which of several transitions
//! applies, what it computes, and how a refusal reads.

use serde_json::{Map, Value, json};
use state_machine::{AggregateState, CommandInput, Decision, Rejection, StateMachine};

use crate::{machine, obj, refused};

/// The contract's inventory example: reserve when there is enough stock,
/// else record a shortage.
fn inventory() -> Value {
    json!({
      "aggregateType": "inventory", "version": 1, "initialState": "Available",
      "states": ["Available"],
      "transitions": [
        { "command": "Restock", "from": ["Available"], "to": "Available", "event": "Restocked",
          "set": { "stock": { "+": [ { "var": [ "data.stock", 0 ] }, { "var": "payload.quantity" } ] } } },
        { "command": "Reserve", "from": ["Available"], "to": "Available", "event": "StockReserved",
          "guard": { ">=": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] },
          "guardMessage": "not enough stock",
          "set": { "stock": { "-": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] } } },
        { "command": "Reserve", "from": ["Available"], "to": "Available", "event": "StockShortage" }
      ]
    })
}

fn stock(n: i64) -> AggregateState {
    AggregateState {
        alarms: Default::default(),
        state: "Available".into(),
        version: 1,
        data: obj(json!({ "stock": n })),
    }
}

fn decide(
    m: &StateMachine,
    at: &AggregateState,
    command: &str,
    payload: Value,
) -> Result<Decision, Rejection> {
    let payload = obj(payload);
    m.decide_command(
        at,
        &CommandInput {
            now: state_machine::Timestamp::now(),
            aggregate_type: "inventory",
            aggregate_id: "sku-1",
            command,
            payload: &payload,
            metadata: &Map::new(),
        },
    )
}

#[test]
fn the_first_transition_whose_guard_holds_applies_with_its_set() {
    let m = machine(&inventory());
    let decision = decide(
        &m,
        &stock(5),
        "Reserve",
        json!({ "quantity": 2, "orderId": "o-1" }),
    );
    assert_eq!(
        decision,
        Ok(Decision {
            alarms: None,
            event_type: "StockReserved".into(),
            to_state: "Available".into(),
            payload: Some(obj(json!({ "quantity": 2, "orderId": "o-1", "stock": 3 }))),
        })
    );
}

#[test]
fn a_guard_that_does_not_hold_falls_through_to_the_next_transition() {
    let m = machine(&inventory());
    let decision = decide(&m, &stock(1), "Reserve", json!({ "quantity": 2 }));
    assert_eq!(
        decision,
        Ok(Decision {
            alarms: None,
            event_type: "StockShortage".into(),
            to_state: "Available".into(),
            payload: None,
        })
    );
}

#[test]
fn set_is_folded_so_a_replay_needs_no_rule() {
    let m = machine(&inventory());
    let mut item = m.initial_state();
    for (command, quantity) in [
        ("Restock", 10),
        ("Reserve", 4),
        ("Reserve", 4),
        ("Reserve", 4),
    ] {
        let payload = obj(json!({ "quantity": quantity }));
        let decision =
            decide(&m, &item, command, Value::Object(payload.clone())).expect("accepted");
        item.apply(
            &decision.to_state,
            decision.payload.as_ref().unwrap_or(&payload),
        );
    }
    assert_eq!(
        item.data["stock"],
        json!(2),
        "10 - 4 - 4, the third is a shortage"
    );
}

#[test]
fn when_no_guard_holds_the_reason_names_the_transition_and_its_message_not_a_value() {
    let mut config = inventory();
    config["transitions"]
        .as_array_mut()
        .expect("an array")
        .pop();
    let m = machine(&config);
    let rejection = decide(&m, &stock(1), "Reserve", json!({ "quantity": 777 })).unwrap_err();
    let Rejection::GuardFailed { command, reason } = &rejection else {
        panic!("{rejection:?}");
    };
    assert_eq!(command, "Reserve");
    assert!(reason.contains("transitions[1]"), "{reason}");
    assert!(reason.contains("not enough stock"), "{reason}");
    assert!(!rejection.to_string().contains("777"), "{rejection}");
}

#[test]
fn a_guard_that_cannot_be_evaluated_does_not_hold_and_says_so() {
    let config = json!({
      "aggregateType": "t", "version": 1, "initialState": "A", "states": ["A", "B"],
      "transitions": [
        { "command": "Go", "from": ["A"], "to": "B", "event": "Went",
          "guard": { ">": [ { "/": [ { "var": "payload.n" }, 0 ] }, 1 ] } }
      ]
    });
    let m = machine(&config);
    let rejection = decide(&m, &m.initial_state(), "Go", json!({ "n": 31337 })).unwrap_err();
    let Rejection::GuardFailed { reason, .. } = &rejection else {
        panic!("{rejection:?}");
    };
    assert!(reason.contains("could not be evaluated"), "{reason}");
    assert!(!reason.contains("31337"), "{reason}");
}

#[test]
fn rules_see_the_aggregate_before_the_command_and_the_command() {
    let config = json!({
      "aggregateType": "t", "version": 1, "initialState": "Available", "states": ["Available"],
      "transitions": [
        { "command": "Go", "from": ["Available"], "to": "Available", "event": "Went",
          "guard": { "and": [ { "==": [ { "var": "aggregateId" }, "sku-1" ] },
                              { "==": [ { "var": "state" }, "Available" ] },
                              { "==": [ { "var": "version" }, 1 ] } ] },
          "set": { "seen": { "cat": [ { "var": "aggregateType" }, "/", { "var": "data.stock" } ] } } }
      ]
    });
    let m = machine(&config);
    let decision = decide(&m, &stock(7), "Go", json!({})).expect("accepted");
    assert_eq!(
        decision.payload,
        Some(obj(json!({ "seen": "inventory/7" })))
    );
}

#[test]
fn an_unguarded_transition_before_another_for_the_same_command_and_state_is_a_fault() {
    let mut config = inventory();
    config["transitions"][1]
        .as_object_mut()
        .expect("an object")
        .remove("guard");
    config["transitions"][1]
        .as_object_mut()
        .expect("an object")
        .remove("guardMessage");
    let faults = refused(&config);
    assert!(
        faults.iter().any(|f| f.path == "transitions[2].from[0]"
            && f.message.contains("transitions[1] has no `guard`")),
        "{faults:?}"
    );
}
