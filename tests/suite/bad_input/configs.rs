//! Bad configs and bad rules: `tests/fixtures/bad_input/configs.jsonl`, one
//! case a line. Each gives the `transitions` of a config of type `rules`
//! (states `A`, `B`; initial `A`; the case's `expiry`, if any), the `stage`
//! where it is refused, and a
//! `reason` substring, which names the transition (or, for `arrive`, the
//! field the handler refuses):
//! - `validate`: the config alone is refused (`StateMachine::from_json`);
//! - `set`: valid alone, refused with the config in `other` (or none) as a
//!   set (`validate_set`, as `cmdctl config validate DIR` and upload do);
//! - `decide`: valid; command `Go` with `payload` on an aggregate holding
//!   `data` (and `held` alarms set by an older config) is refused as
//!   `guard_failed`, or as the case's `code` (`alarm_invalid`), permanent;
//! - `accept`: valid; command `Go` is accepted, and `reason` is part of the
//!   JSON of the alarms it sets (a time in the past fires at once);
//! - `react`: valid; the event of `Go` cannot build its reaction
//!   (`reaction_failed`);
//! - `arrive`: the reaction is built, and the handler refuses the command
//!   when it arrives (`malformed_message`).
//!
//! No reason of `decide` or `react` quotes a payload value.

use handler_core::failure::Permanent;
use handler_core::state_machine::{
    AggregateState, Alarm, Alarms, CommandInput, EventView, Rejection, StateMachine, validate_set,
};
use serde_json::{Map, Value, json};

use super::cases::{SECRET, SECRET_DIGITS};

fn object(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The clock of `decide` and `accept` cases.
const NOW: &str = "2030-01-01T00:00:00Z";

/// `n` alarms `held-{k}`, as an older config may have left them: command
/// `heldCommand` (default `Old`), due at `heldDue` (default `NOW`).
fn held(n: u64, case: &Value) -> Alarms {
    let command = case
        .get("heldCommand")
        .and_then(Value::as_str)
        .unwrap_or("Old");
    let due = case.get("heldDue").and_then(Value::as_str).unwrap_or(NOW);
    (0..n)
        .map(|k| {
            let alarm = Alarm {
                name: format!("held-{k}"),
                due: due.parse().expect("a time"),
                version: 1,
                command: command.to_owned(),
                payload: Map::new(),
                correlation_id: None,
                hops: 0,
            };
            (alarm.name.clone(), alarm)
        })
        .collect()
}

/// What went wrong with one case, or `None` when it is refused as it should be.
fn check(case: &Value) -> Option<String> {
    let reason = case["reason"].as_str().expect("a reason");
    let mut config = json!({
        "aggregateType": "rules", "version": 1, "initialState": "A", "states": ["A", "B"],
        "transitions": case["transitions"],
    });
    if let Some(expiry) = case.get("expiry") {
        config["expiry"] = expiry.clone();
    }
    let built = StateMachine::from_json(&serde_json::to_vec(&config).expect("serializable"));
    let stage = case["stage"].as_str().expect("a stage");
    if stage == "validate" {
        return match built {
            Ok(_) => Some("accepted".to_owned()),
            Err(err) if err.faults.iter().any(|f| f.to_string().contains(reason)) => None,
            Err(err) => Some(format!("refused with other faults:\n{err}")),
        };
    }
    let machine = match built {
        Ok(machine) => machine,
        Err(err) => return Some(format!("refused alone:\n{err}")),
    };
    let payload = object(case.get("payload"));
    let said = match stage {
        "set" => {
            let other = case.get("other").map(|o| {
                StateMachine::from_json(&serde_json::to_vec(o).expect("serializable"))
                    .expect("the other config is valid")
            });
            let set: Vec<&StateMachine> = std::iter::once(&machine).chain(other.as_ref()).collect();
            let faults: Vec<String> = validate_set(&set)
                .iter()
                .map(|f| f.fault.to_string())
                .collect();
            faults.join("\n")
        }
        "decide" | "accept" => {
            let current = AggregateState {
                alarms: held(case.get("held").and_then(Value::as_u64).unwrap_or(0), case),
                state: "A".into(),
                version: 1,
                data: object(case.get("data")),
            };
            let code = case
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("guard_failed");
            let metadata = object(case.get("metadata"));
            let input = CommandInput {
                now: NOW.parse().expect("a time"),
                aggregate_type: "rules",
                aggregate_id: "r-1",
                command: "Go",
                payload: &payload,
                metadata: &metadata,
            };
            match (stage, machine.decide_command(&current, &input)) {
                ("accept", Ok(decision)) => {
                    let alarms = serde_json::to_string(&decision.alarms).expect("serializable");
                    return (!alarms.contains(reason)).then(|| format!("alarms: {alarms}"));
                }
                (_, Ok(decision)) => return Some(format!("accepted: {decision:?}")),
                (
                    "decide",
                    Err(
                        rejection @ (Rejection::GuardFailed { .. }
                        | Rejection::AlarmInvalid { .. }
                        | Rejection::AlarmNotDue { .. }
                        | Rejection::AlarmMismatch { .. }),
                    ),
                ) => {
                    let failure = Permanent::Decision(rejection);
                    if failure.code() != code {
                        return Some(format!("code {}", failure.code()));
                    }
                    failure.to_string()
                }
                (_, Err(other)) => return Some(format!("refused otherwise: {other}")),
            }
        }
        "react" | "arrive" => {
            let event = EventView {
                aggregate_type: "rules",
                aggregate_id: "r-1",
                version: 1,
                event_type: "Went",
                state: "B",
                data: &payload,
                payload: &payload,
                metadata: &Map::new(),
                command_id: "c-1",
                config_version: machine.version(),
            };
            let built = machine.reactions(&event).remove(0);
            match (stage, built) {
                ("react", Err(err)) => err.to_string(),
                ("arrive", Ok(command)) => {
                    let body = serde_json::to_string(&command).expect("serializable");
                    match handler_core::envelope::parse_command(&body, "m-1") {
                        Ok(_) => return Some("the handler accepted the command".to_owned()),
                        Err(err) => {
                            let failure = Permanent::Envelope(err);
                            if failure.code() != "malformed_message" {
                                return Some(format!("code {}", failure.code()));
                            }
                            return (!failure.to_string().contains(reason))
                                .then(|| format!("refused with: {failure}"));
                        }
                    }
                }
                (_, other) => return Some(format!("reaction: {other:?}")),
            }
        }
        other => panic!("unknown stage {other}"),
    };
    if !said.contains(reason) {
        return Some(format!("said: {said}"));
    }
    (said.contains(SECRET) || said.contains(SECRET_DIGITS))
        .then(|| format!("quotes a value: {said}"))
}

#[test]
fn every_bad_config_or_rule_is_refused_naming_its_transition() {
    let text = testkit::fixtures::read("bad_input/configs.jsonl");
    let cases: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("configs.jsonl: {e}: {l}")))
        .collect();
    assert!(cases.len() >= 15);
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).map(|w| format!("{}: {w}", case["name"])))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
