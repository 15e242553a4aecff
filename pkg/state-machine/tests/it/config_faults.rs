//! Configs that must be refused, and what the refusal says.

use serde_json::{Value, json};
use state_machine::{Config, ConfigError, ConfigFault, StateMachine};

use crate::{contract_example, faults_of_bytes, machine, refused};

/// The contract example with the value at `pointer` replaced.
fn with(pointer: &str, value: Value) -> Value {
    let mut config = contract_example();
    *config.pointer_mut(pointer).expect("pointer exists") = value;
    config
}

/// Asserts exactly one fault, at `path`, whose message contains `needle`.
#[track_caller]
fn assert_single(faults: &[ConfigFault], path: &str, needle: &str) {
    assert_eq!(faults.len(), 1, "expected one fault, got {faults:#?}");
    assert_fault(faults, path, needle);
}

/// Asserts some fault is at `path` and its message contains `needle`.
#[track_caller]
fn assert_fault(faults: &[ConfigFault], path: &str, needle: &str) {
    assert!(
        faults
            .iter()
            .any(|f| f.path == path && f.message.contains(needle)),
        "no fault at `{path}` containing `{needle}` in {faults:#?}"
    );
}

#[test]
fn the_contract_example_is_accepted() {
    let m = machine(&contract_example());
    assert_eq!(m.aggregate_type(), "order");
    assert_eq!(m.version(), 1);
    assert_eq!(m.config().transitions.len(), 3);
}

#[test]
fn a_config_round_trips_through_serde() {
    let config: Config = serde_json::from_value(contract_example()).expect("parses");
    assert_eq!(
        serde_json::to_value(&config).expect("serializes"),
        contract_example()
    );
    let m = StateMachine::from_config(config.clone()).expect("valid");
    assert_eq!(m.config(), &config);
}

#[test]
fn not_json_is_refused_with_line_and_column() {
    let faults = faults_of_bytes(b"aggregateType: order");
    assert_single(&faults, "", "expected value at line 1 column 1");
}

#[test]
fn trailing_characters_are_refused() {
    let mut bytes = serde_json::to_vec(&contract_example()).expect("serializable");
    bytes.extend_from_slice(b" {}");
    assert_single(&faults_of_bytes(&bytes), "", "trailing characters");
}

#[test]
fn a_wrong_type_is_refused_at_its_path() {
    let faults = refused(&with("/transitions/1/from/0", json!(7)));
    assert_single(
        &faults,
        "transitions[1].from[0]",
        "invalid type: integer `7`",
    );
    assert!(faults[0].message.contains("line 1 column"), "{faults:?}");

    let faults = refused(&with("/version", json!("one")));
    assert_single(&faults, "version", "invalid type: string \"one\"");
}

#[test]
fn a_missing_field_is_refused() {
    let mut config = contract_example();
    config.as_object_mut().expect("object").remove("states");
    assert_single(&refused(&config), "", "missing field `states`");

    let mut config = contract_example();
    config["transitions"][2]
        .as_object_mut()
        .expect("object")
        .remove("event");
    assert_single(&refused(&config), "transitions[2]", "missing field `event`");
}

#[test]
fn an_unknown_field_is_refused() {
    let mut config = contract_example();
    config["initalState"] = json!("New");
    assert_single(
        &refused(&config),
        "initalState",
        "unknown field `initalState`",
    );

    let mut config = contract_example();
    config["transitions"][1]["payload_schema"] = json!({});
    assert_single(
        &refused(&config),
        "transitions[1].payload_schema",
        "unknown field `payload_schema`",
    );
}

#[test]
fn an_empty_aggregate_type_is_refused() {
    assert_single(
        &refused(&with("/aggregateType", json!(""))),
        "aggregateType",
        "must not be empty",
    );
}

#[test]
fn an_empty_state_name_is_refused() {
    let mut config = contract_example();
    config["states"]
        .as_array_mut()
        .expect("array")
        .push(json!(""));
    assert_single(&refused(&config), "states[6]", "must not be empty");
}

#[test]
fn an_empty_initial_state_is_refused() {
    assert_single(
        &refused(&with("/initialState", json!(""))),
        "initialState",
        "must not be empty",
    );
}

#[test]
fn an_empty_command_is_refused() {
    assert_single(
        &refused(&with("/transitions/1/command", json!(""))),
        "transitions[1].command",
        "must not be empty",
    );
}

#[test]
fn an_empty_event_is_refused() {
    assert_single(
        &refused(&with("/transitions/0/event", json!(""))),
        "transitions[0].event",
        "must not be empty",
    );
}

#[test]
fn an_empty_from_entry_is_refused() {
    assert_single(
        &refused(&with("/transitions/2/from/1", json!(""))),
        "transitions[2].from[1]",
        "must not be empty",
    );
}

#[test]
fn an_empty_to_is_refused() {
    assert_single(
        &refused(&with("/transitions/1/to", json!(""))),
        "transitions[1].to",
        "must not be empty",
    );
}

#[test]
fn a_duplicate_state_is_refused() {
    let faults = refused(&with("/states/4", json!("Paid")));
    assert_single(&faults, "states[4]", "duplicate state `Paid`");
    assert!(faults[0].message.contains("states[3]"), "{faults:?}");
}

#[test]
fn an_undeclared_initial_state_is_refused() {
    assert_single(
        &refused(&with("/initialState", json!("Draft"))),
        "initialState",
        "state `Draft` is not declared in `states`",
    );
}

#[test]
fn an_undeclared_from_state_is_refused() {
    assert_single(
        &refused(&with("/transitions/2/from/1", json!("Shipped"))),
        "transitions[2].from[1]",
        "state `Shipped` is not declared",
    );
}

#[test]
fn an_undeclared_to_state_is_refused() {
    assert_single(
        &refused(&with("/transitions/1/to", json!("Shipped"))),
        "transitions[1].to",
        "state `Shipped` is not declared",
    );
}

#[test]
fn an_empty_from_list_is_refused() {
    assert_single(
        &refused(&with("/transitions/1/from", json!([]))),
        "transitions[1].from",
        "at least one state",
    );
}

#[test]
fn two_transitions_for_one_command_and_state_are_refused() {
    let mut config = contract_example();
    config["transitions"]
        .as_array_mut()
        .expect("array")
        .push(json!({ "command": "CancelOrder", "from": ["Paid", "Reserved"], "to": "Cancelled", "event": "OrderVoided" }));
    let faults = refused(&config);
    assert_single(
        &faults,
        "transitions[3].from[1]",
        "command `CancelOrder` from state `Reserved`",
    );
    assert!(
        faults[0]
            .message
            .contains("transitions[2] and transitions[3]"),
        "{faults:?}"
    );
}

#[test]
fn the_same_command_from_different_states_is_fine() {
    let mut config = contract_example();
    config["transitions"]
        .as_array_mut()
        .expect("array")
        .push(json!({ "command": "CancelOrder", "from": ["Paid"], "to": "Cancelled", "event": "OrderVoided" }));
    machine(&config);
}

#[test]
fn a_payload_schema_that_does_not_compile_is_refused() {
    let faults = refused(&with(
        "/transitions/0/payloadSchema/properties/quantity/type",
        json!(5),
    ));
    assert_single(
        &faults,
        "transitions[0].payloadSchema",
        "does not compile as JSON Schema",
    );
    assert!(
        faults[0].message.contains("/properties/quantity/type"),
        "{faults:?}"
    );

    let mut config = contract_example();
    config["transitions"][0]["payloadSchema"]["properties"]["itemId"]["pattern"] = json!("(");
    let faults = refused(&config);
    assert_single(
        &faults,
        "transitions[0].payloadSchema",
        "does not compile as JSON Schema",
    );
}

#[test]
fn a_payload_schema_with_a_remote_ref_is_refused_not_fetched() {
    let faults = refused(&with(
        "/transitions/0/payloadSchema",
        json!({ "$ref": "https://example.com/schemas/order.json" }),
    ));
    assert_single(
        &faults,
        "transitions[0].payloadSchema",
        "does not compile as JSON Schema",
    );
}

#[test]
fn every_fault_is_listed_not_just_the_first() {
    let config = json!({
      "aggregateType": "",
      "version": 2,
      "initialState": "Start",
      "states": ["New", "Open", "New", ""],
      "transitions": [
        { "command": "Open", "from": ["New"], "to": "Opened", "event": "Opened" },
        { "command": "Open", "from": [], "to": "Open", "event": "" },
        { "command": "Open", "from": ["Gone", "New"], "to": "Open", "event": "Reopened",
          "payloadSchema": { "type": "thing" } }
      ]
    });
    let faults = refused(&config);
    let paths: Vec<&str> = faults.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "aggregateType",
            "states[2]",
            "states[3]",
            "initialState",
            "transitions[0].to",
            "transitions[1].event",
            "transitions[1].from",
            "transitions[2].from[0]",
            "transitions[2].from[1]",
            "transitions[2].payloadSchema",
        ],
        "{faults:#?}"
    );
    assert_fault(
        &faults,
        "transitions[2].from[1]",
        "transitions[0] and transitions[2]",
    );
    assert_fault(&faults, "transitions[0].to", "`Opened` is not declared");
}

#[test]
fn a_config_error_displays_one_fault_per_line() {
    let err = ConfigError {
        faults: refused(&with("/transitions/1/to", json!(""))),
    };
    assert_eq!(err.to_string(), "transitions[1].to: must not be empty");

    let err = ConfigError {
        faults: vec![
            ConfigFault {
                path: "initialState".into(),
                message: "a".into(),
            },
            ConfigFault {
                path: String::new(),
                message: "b".into(),
            },
        ],
    };
    assert_eq!(err.to_string(), "initialState: a\nb");
}
