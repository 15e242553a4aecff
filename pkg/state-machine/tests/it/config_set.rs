//! `validate_set`: faults only a set of configs shows.

use serde_json::{Value, json};
use state_machine::{StateMachine, validate_set};

use crate::machine;

fn ping(then_type: &str, guard: Option<Value>) -> Value {
    let mut t = json!({ "command": "Ping", "from": ["Idle"], "to": "Idle", "event": "Pinged",
                        "then": [ { "aggregateType": then_type, "aggregateId": "x", "command": "Pong" } ] });
    if let Some(guard) = guard {
        t["guard"] = guard;
    }
    json!({ "aggregateType": "ping", "version": 1, "initialState": "Idle", "states": ["Idle"],
            "transitions": [ t ] })
}

fn pong() -> Value {
    json!({ "aggregateType": "pong", "version": 1, "initialState": "Idle", "states": ["Idle", "Done"],
            "transitions": [
              { "command": "Pong", "from": ["Idle"], "to": "Idle", "event": "Ponged",
                "then": [ { "aggregateType": "ping", "aggregateId": "x", "command": "Ping" } ] } ] })
}

fn faults(set: &[&StateMachine]) -> Vec<String> {
    validate_set(set)
        .iter()
        .map(|f| format!("{}: {}", f.aggregate_type, f.fault))
        .collect()
}

#[test]
fn a_reaction_to_a_type_with_no_config_is_a_fault() {
    let ping = machine(&ping("nowhere", None));
    let found = faults(&[&ping]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("ping: transitions[0].then[0].aggregateType"),
        "{found:?}"
    );
    assert!(
        found[0].contains("transitions[0] (`Ping` -> `Pinged`)"),
        "{found:?}"
    );
    assert!(found[0].contains("`nowhere`"), "{found:?}");
}

#[test]
fn an_endless_cycle_between_two_types_names_its_transitions() {
    let (ping, pong) = (machine(&ping("pong", None)), machine(&pong()));
    let found = faults(&[&ping, &pong]);
    assert_eq!(found.len(), 1, "one cycle, reported once: {found:?}");
    assert!(
        found[0].contains("ping.transitions[0] (`Ping` -> `Pinged`) -> pong.transitions[0] (`Pong` -> `Ponged`) -> ping.transitions[0]"),
        "{found:?}"
    );
}

#[test]
fn a_guard_or_a_state_change_on_the_cycle_lets_it_end() {
    let guarded = machine(&ping(
        "pong",
        Some(json!({ "<": [ { "var": "version" }, 3 ] })),
    ));
    assert!(faults(&[&guarded, &machine(&pong())]).is_empty());
    let mut moving = pong();
    moving["transitions"][0]["to"] = json!("Done");
    assert!(faults(&[&machine(&ping("pong", None)), &machine(&moving)]).is_empty());
}
