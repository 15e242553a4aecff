//! `decide`: every answer, accepted or rejected.

use serde_json::json;
use state_machine::{AggregateState, Decision, Rejection};

use crate::{contract_example, machine, obj};

fn at(state: &str) -> AggregateState {
    AggregateState {
        alarms: Default::default(),
        state: state.into(),
        version: 3,
        data: obj(json!({})),
    }
}

#[test]
fn a_new_aggregate_starts_at_the_initial_state() {
    let m = machine(&contract_example());
    assert_eq!(
        m.initial_state(),
        AggregateState {
            alarms: Default::default(),
            state: "New".into(),
            version: 0,
            data: obj(json!({}))
        }
    );
}

#[test]
fn an_allowed_command_with_a_valid_payload_is_accepted() {
    let m = machine(&contract_example());
    let decision = m.decide(
        &m.initial_state(),
        "CreateOrder",
        &obj(json!({ "itemId": "sku-1", "quantity": 2 })),
    );
    assert_eq!(
        decision,
        Ok(Decision {
            alarms: None,
            event_type: "OrderCreated".into(),
            to_state: "Created".into(),
            payload: None,
        })
    );
}

#[test]
fn a_command_without_a_schema_takes_any_payload() {
    let m = machine(&contract_example());
    let decision = m.decide(
        &at("Reserved"),
        "CancelOrder",
        &obj(json!({ "anything": [1, null] })),
    );
    assert_eq!(
        decision,
        Ok(Decision {
            alarms: None,
            event_type: "OrderCancelled".into(),
            to_state: "Cancelled".into(),
            payload: None,
        })
    );
}

#[test]
fn an_unknown_command_is_rejected() {
    let m = machine(&contract_example());
    let rejection = m
        .decide(&at("Created"), "ShipOrder", &obj(json!({})))
        .unwrap_err();
    assert_eq!(
        rejection,
        Rejection::UnknownCommand {
            aggregate_type: "order".into(),
            command: "ShipOrder".into()
        }
    );
    assert_eq!(
        rejection.to_string(),
        "unknown command `ShipOrder` for aggregate type `order`"
    );
}

#[test]
fn a_command_from_the_wrong_state_is_rejected_naming_where_it_is_allowed() {
    let mut config = contract_example();
    config["transitions"]
        .as_array_mut()
        .expect("array")
        .push(json!({ "command": "CancelOrder", "from": ["Paid"], "to": "Cancelled", "event": "OrderVoided" }));
    let m = machine(&config);

    let rejection = m
        .decide(&at("Confirmed"), "CancelOrder", &obj(json!({})))
        .unwrap_err();
    assert_eq!(
        rejection,
        Rejection::InvalidTransition {
            command: "CancelOrder".into(),
            state: "Confirmed".into(),
            allowed_from: vec!["Created".into(), "Reserved".into(), "Paid".into()],
        }
    );
    assert_eq!(
        rejection.to_string(),
        "command `CancelOrder` is not allowed in state `Confirmed` (allowed from: Created, Reserved, Paid)"
    );
    // The second transition for the command is found from its own state.
    assert_eq!(
        m.decide(&at("Paid"), "CancelOrder", &obj(json!({})))
            .map(|d| d.event_type),
        Ok("OrderVoided".into())
    );
}

#[test]
fn a_payload_that_violates_the_schema_is_rejected_with_every_error() {
    let m = machine(&contract_example());
    let rejection = m
        .decide(
            &m.initial_state(),
            "CreateOrder",
            &obj(json!({ "quantity": 0 })),
        )
        .unwrap_err();
    let Rejection::SchemaViolation { command, errors } = &rejection else {
        panic!("expected a schema violation, got {rejection:?}");
    };
    assert_eq!(command, "CreateOrder");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/: ") && e.contains("required properties \"itemId\"")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/quantity: ") && e.contains("minimum = 1")),
        "{errors:?}"
    );
    assert!(
        rejection
            .to_string()
            .starts_with("payload of `CreateOrder` violates its schema: ")
    );
}

#[test]
fn schema_errors_never_quote_the_payload() {
    let m = machine(&contract_example());
    let secret = "jane.doe@example.com";
    let rejection = m
        .decide(
            &m.initial_state(),
            "CreateOrder",
            &obj(json!({ "itemId": 42, "quantity": secret })),
        )
        .unwrap_err();
    let text = rejection.to_string();
    assert!(!text.contains(secret), "{text}");
    assert!(
        text.contains("/quantity: must satisfy type = \"integer\""),
        "{text}"
    );
    assert!(
        text.contains("/itemId: must satisfy type = \"string\""),
        "{text}"
    );
}

#[test]
fn schema_errors_are_capped() {
    let mut config = contract_example();
    config["transitions"][0]["payloadSchema"] =
        json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let m = machine(&config);
    let payload = obj(
        json!({ "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "k": 11, "l": 12 }),
    );
    let Err(Rejection::SchemaViolation { errors, .. }) =
        m.decide(&m.initial_state(), "CreateOrder", &payload)
    else {
        panic!("expected a schema violation");
    };
    assert_eq!(errors.len(), 11, "{errors:?}");
    assert_eq!(errors[10], "... and more");
}

#[test]
fn the_machine_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<state_machine::StateMachine>();
}
