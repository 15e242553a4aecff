//! Tests of the public API, in one binary.

mod alarm_faults;
mod alarm_time;
mod alarms;
mod bindings;
mod config_faults;
mod config_set;
mod decide;
mod fold;
mod guards;
mod never_panics;
mod pattern_limits;
mod reactions;
mod shipped_configs;

use serde_json::{Map, Value, json};
use state_machine::{ConfigFault, StateMachine};

/// The contract's example config (docs/reference.md §2).
fn contract_example() -> Value {
    json!({
      "aggregateType": "order",
      "version": 1,
      "initialState": "New",
      "states": ["New", "Created", "Reserved", "Paid", "Confirmed", "Cancelled"],
      "transitions": [
        { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
          "payloadSchema": { "type": "object", "required": ["itemId", "quantity"],
                             "properties": { "itemId": {"type": "string"},
                                             "quantity": {"type": "integer", "minimum": 1} } } },
        { "command": "ReserveItem", "from": ["Created"], "to": "Reserved", "event": "ItemReserved" },
        { "command": "CancelOrder", "from": ["Created", "Reserved"], "to": "Cancelled", "event": "OrderCancelled" }
      ]
    })
}

fn machine(config: &Value) -> StateMachine {
    StateMachine::from_json(&serde_json::to_vec(config).expect("serializable"))
        .unwrap_or_else(|err| panic!("config refused:\n{err}"))
}

/// The faults of a config that must be refused.
fn refused(config: &Value) -> Vec<ConfigFault> {
    faults_of_bytes(&serde_json::to_vec(config).expect("serializable"))
}

fn faults_of_bytes(bytes: &[u8]) -> Vec<ConfigFault> {
    match StateMachine::from_json(bytes) {
        Ok(_) => panic!("config accepted: {}", String::from_utf8_lossy(bytes)),
        Err(err) => {
            assert!(!err.faults.is_empty(), "an error lists at least one fault");
            err.faults
        }
    }
}

/// `value` as a payload map.
fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}
