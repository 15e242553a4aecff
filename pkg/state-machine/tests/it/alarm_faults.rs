//! Every static fault of `alarms` and `expiry` (docs/reference.md §2): each
//! is refused by `StateMachine::from_config`, naming the transition (its
//! path) and the alarm.

use serde_json::{Value, json};

use crate::{machine, refused};

/// A config whose first transition gets `alarms` and whose top gets `expiry`.
fn with(alarms: Value, expiry: Option<Value>) -> Value {
    let mut config = json!({
      "aggregateType": "order", "version": 1, "initialState": "New",
      "states": ["New", "Open", "Closed"],
      "transitions": [
        { "command": "Open", "from": ["New"], "to": "Open", "event": "Opened", "alarms": alarms },
        { "command": "Ping", "from": ["Open"], "to": "Open", "event": "Pinged",
          "payloadSchema": { "type": "object",
                             "properties": { "n": { "type": "integer", "minimum": 0 } } },
          "alarms": { "set": [ { "name": "ping", "after": "PT1M", "command": "Ping" } ] } },
        { "command": "Close", "from": ["Open"], "to": "Closed", "event": "Closed" }
      ]
    });
    if let Some(expiry) = expiry {
        config["expiry"] = expiry;
    }
    config
}

fn set(entry: Value) -> Value {
    json!({ "set": [ entry ] })
}

#[test]
fn a_valid_config_with_alarms_and_expiry_is_accepted() {
    machine(&with(
        json!({ "set": [ { "name": "close-after", "after": "P1DT2H", "command": "Close" },
                         { "name": "at.time_1", "at": "2030-01-01T00:00:00Z", "command": "Close",
                           "payload": { "why": "late" } },
                         { "name": "rule", "at": { "var": "payload.when" }, "command": "Close" } ],
                "clear": [ "ping" ] }),
        Some(json!({ "command": "Close" })),
    ));
}

#[test]
fn every_static_fault_names_the_transition_and_the_alarm() {
    let close = |extra: Value| {
        let mut entry = json!({ "name": "a", "command": "Close" });
        for (k, v) in extra.as_object().unwrap() {
            entry[k] = v.clone();
        }
        entry
    };
    let cases: Vec<(&str, Value, Option<Value>, &str, &str)> = vec![
        (
            "bad duration",
            set(close(json!({"after": "15 minutes"}))),
            None,
            "transitions[0].alarms.set[0].after",
            "alarm `a`: `after` is not an ISO 8601 duration",
        ),
        (
            "negative duration",
            set(close(json!({"after": "-PT1M"}))),
            None,
            "transitions[0].alarms.set[0].after",
            "alarm `a`: `after` is not an ISO 8601 duration",
        ),
        (
            "beyond ten years",
            set(close(json!({"after": "P10Y1D"}))),
            None,
            "transitions[0].alarms.set[0].after",
            "alarm `a`: `after` is longer than the 10-year bound",
        ),
        (
            "both after and at",
            set(close(
                json!({"after": "PT1M", "at": "2030-01-01T00:00:00Z"}),
            )),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `a`: gives both `after` and `at`",
        ),
        (
            "neither after nor at",
            set(close(json!({}))),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `a`: gives neither `after` nor `at`",
        ),
        (
            "at rule does not compile",
            set(close(json!({"at": {"no_such_op": []}}))),
            None,
            "transitions[0].alarms.set[0].at",
            "alarm `a`: `at` uses the unknown JSON Logic operator",
        ),
        (
            "at rule too deep",
            set(close(json!({"at": deep(20)}))),
            None,
            "transitions[0].alarms.set[0].at",
            "alarm `a`: `at` nests too deep",
        ),
        (
            "at literal not a time",
            set(close(json!({"at": "tomorrow"}))),
            None,
            "transitions[0].alarms.set[0].at",
            "alarm `a`: `at` must be an RFC 3339 time",
        ),
        (
            "at literal a number",
            set(close(json!({"at": 17}))),
            None,
            "transitions[0].alarms.set[0].at",
            "alarm `a`: `at` must be an RFC 3339 time",
        ),
        (
            "bad name",
            set(json!({"name": "no spaces", "after": "PT1M", "command": "Close"})),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `no spaces` is not a valid alarm name",
        ),
        (
            "long name",
            set(json!({"name": "x".repeat(65), "after": "PT1M", "command": "Close"})),
            None,
            "transitions[0].alarms.set[0]",
            "is not a valid alarm name",
        ),
        (
            "empty name",
            set(json!({"name": "", "after": "PT1M", "command": "Close"})),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `` is not a valid alarm name",
        ),
        (
            "duplicate in one set",
            json!({"set": [close(json!({"after": "PT1M"})), close(json!({"after": "PT2M"}))]}),
            None,
            "transitions[0].alarms.set[1]",
            "alarm `a`: set twice by this transition",
        ),
        (
            "set and cleared",
            json!({"set": [close(json!({"after": "PT1M"}))], "clear": ["a"]}),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `a`: both set and cleared by this transition",
        ),
        (
            "clear of a name nothing sets",
            json!({"clear": ["nobody"]}),
            None,
            "transitions[0].alarms.clear[0]",
            "alarm `nobody`: is cleared, but no transition sets it",
        ),
        (
            "clear of a bad name",
            json!({"clear": ["a b"]}),
            None,
            "transitions[0].alarms.clear[0]",
            "alarm `a b` is not a valid alarm name",
        ),
        (
            "payload not an object",
            set(close(json!({"after": "PT1M", "payload": [1]}))),
            None,
            "transitions[0].alarms.set[0].payload",
            "alarm `a`: `payload` must be an object",
        ),
        (
            "no command",
            set(json!({"name": "a", "after": "PT1M"})),
            None,
            "transitions[0].alarms.set[0].command",
            "alarm `a`: has no command",
        ),
        (
            "command with no transition from `to`",
            set(json!({"name": "a", "after": "PT1M", "command": "Open"})),
            None,
            "transitions[0].alarms.set[0]",
            "alarm `a`: command `Open` has no transition from state `Open`, where this transition leads",
        ),
        (
            "expiry without a command",
            json!({}),
            Some(json!({"after": "P1D"})),
            "expiry.command",
            "alarm `expiry`: has no command",
        ),
        (
            "expiry with a bad after",
            json!({}),
            Some(json!({"after": "1 year", "command": "Close"})),
            "expiry.after",
            "alarm `expiry`: `after` is not an ISO 8601 duration",
        ),
        (
            "expiry payload not an object",
            json!({}),
            Some(json!({"command": "Close", "payload": "x"})),
            "expiry.payload",
            "alarm `expiry`: `payload` must be an object",
        ),
        (
            "expiry command not from creation's `to`",
            json!({}),
            Some(json!({"command": "Open"})),
            "expiry.command",
            "alarm `expiry`: command `Open` has no transition from state `Open`, where transitions[0] leads",
        ),
        (
            "expiry set again with no config expiry",
            set(json!({"name": "expiry"})),
            None,
            "transitions[0].alarms.set[0].command",
            "alarm `expiry`: has no command",
        ),
        (
            "too many distinct alarms",
            json!({"set": (0..17).map(|n| json!({"name": format!("a{n}"), "after": "PT1M", "command": "Close"}))
                               .collect::<Vec<_>>()}),
            None,
            "transitions[0].alarms.set[16]",
            "alarm `a16`: the config names more than 16 distinct alarms",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, alarms, expiry, path, message) in cases {
        let faults = refused(&with(alarms, expiry));
        if !faults
            .iter()
            .any(|f| f.path == path && f.message.contains(message))
        {
            wrong.push(format!("{name}: {faults:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn expiry_set_again_takes_the_configs_values() {
    machine(&with(
        set(json!({"name": "expiry"})),
        Some(json!({ "command": "Close", "after": "P2Y" })),
    ));
    // Its own `after` and command are fine too, with or without a config expiry.
    machine(&with(
        set(json!({"name": "expiry", "after": "P2D", "command": "Close"})),
        None,
    ));
}

fn deep(levels: usize) -> Value {
    (0..levels).fold(
        json!({"var": "payload.when"}),
        |rule, _| json!({"if": [true, rule, null]}),
    )
}
