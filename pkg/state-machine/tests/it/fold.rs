//! `AggregateState::apply`: JSON Merge Patch folding.

use serde_json::json;
use state_machine::AggregateState;

use crate::obj;

fn state(data: serde_json::Value) -> AggregateState {
    AggregateState {
        alarms: Default::default(),
        state: "Created".into(),
        version: 4,
        data: obj(data),
    }
}

#[test]
fn apply_moves_state_and_bumps_version() {
    let mut s = state(json!({ "a": 1 }));
    s.apply("Reserved", &obj(json!({})));
    assert_eq!(
        s,
        AggregateState {
            alarms: Default::default(),
            state: "Reserved".into(),
            version: 5,
            data: obj(json!({ "a": 1 }))
        }
    );
}

#[test]
fn nested_objects_merge() {
    let mut s = state(
        json!({ "customer": { "name": "Ada", "address": { "city": "London", "zip": "N1" } } }),
    );
    s.apply(
        "Created",
        &obj(json!({ "customer": { "address": { "zip": "E2" }, "vip": true } })),
    );
    assert_eq!(
        s.data,
        obj(
            json!({ "customer": { "name": "Ada", "vip": true, "address": { "city": "London", "zip": "E2" } } })
        )
    );
}

#[test]
fn null_deletes_a_key() {
    let mut s = state(json!({ "a": 1, "b": { "c": 2, "d": 3 } }));
    s.apply(
        "Created",
        &obj(json!({ "a": null, "b": { "c": null }, "missing": null })),
    );
    assert_eq!(s.data, obj(json!({ "b": { "d": 3 } })));
}

#[test]
fn arrays_replace() {
    let mut s = state(json!({ "items": [1, 2, 3] }));
    s.apply("Created", &obj(json!({ "items": [4] })));
    assert_eq!(s.data, obj(json!({ "items": [4] })));
}

#[test]
fn a_scalar_is_replaced_by_an_object_and_back() {
    let mut s = state(json!({ "x": 1, "y": { "z": 1 } }));
    s.apply(
        "Created",
        &obj(json!({ "x": { "n": null, "m": 2 }, "y": "flat" })),
    );
    assert_eq!(s.data, obj(json!({ "x": { "m": 2 }, "y": "flat" })));
}

#[test]
fn a_state_serializes_as_the_contract_says() {
    let s = state(json!({ "a": [1] }));
    assert_eq!(
        serde_json::to_value(&s).expect("serializes"),
        json!({ "state": "Created", "version": 4, "data": { "a": [1] } })
    );
}
