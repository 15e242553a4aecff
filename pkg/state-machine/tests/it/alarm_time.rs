//! Property tests of alarm time handling: no string makes the duration or
//! time parsers panic, no `at` value, `after` text or clock reading makes
//! `from_config` or `decide_command` panic, and every alarm set is due
//! within the bound, on a whole second.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use state_machine::{
    AggregateState, CommandInput, IsoDuration, Rejection, StateMachine, Timestamp, parse_time,
};

/// Text near ISO 8601 durations: signs, designators, fractions, big numbers.
const DURATION_LIKE: &str =
    "[-+]?[Pp]([0-9]{0,20}[YMWDymwd]){0,4}([Tt]([0-9]{0,20}([.,][0-9]{0,12})?[HMShms]){0,3})?";

/// Text near RFC 3339 times.
const TIME_LIKE: &str = "[+-]?[0-9]{1,6}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}([.][0-9]{0,12})?)?)?([Zz]|[+-][0-9]{1,2}(:[0-9]{1,2})?)?(\\[[a-zA-Z/_!]{0,12}\\])?";

fn any_time() -> impl Strategy<Value = Timestamp> {
    let (min, max) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    prop_oneof![
        (min..=max, 0..1_000_000_000i32).prop_map(move |(s, n)| {
            Timestamp::new(s, if s == max || s == min { 0 } else { n }).expect("in range")
        }),
        // Near now, where real clocks are.
        (1_700_000_000i64..2_100_000_000)
            .prop_map(|s| Timestamp::from_second(s).expect("in range")),
    ]
}

fn at_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        TIME_LIKE.prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        Just(json!([])),
        Just(json!({ "a": 1 })),
    ]
}

/// Durations: near-ISO text, or valid ones (so that decisions are made).
fn after_text() -> impl Strategy<Value = String> {
    prop_oneof![
        DURATION_LIKE.prop_map(|s| s),
        proptest::sample::select(&["PT15M", "P1D", "P1Y2M", "PT0.5S", "P10Y", "P0D", "P2W"][..])
            .prop_map(str::to_owned),
    ]
}

fn machine(after: &str) -> Result<StateMachine, state_machine::ConfigError> {
    let config = json!({
      "aggregateType": "t", "version": 1, "initialState": "New", "states": ["New", "On"],
      "expiry": { "after": after, "command": "Off" },
      "transitions": [
        { "command": "On", "from": ["New", "On"], "to": "On", "event": "Switched",
          "alarms": { "set": [
            { "name": "later", "after": after, "command": "Off" },
            { "name": "when", "at": { "var": "payload.when" }, "command": "Off" } ] } },
        { "command": "Off", "from": ["On"], "to": "On", "event": "Stopped" }
      ]
    });
    StateMachine::from_json(&serde_json::to_vec(&config).expect("serializable"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_string_makes_the_parsers_panic(text in ".{0,40}", like in DURATION_LIKE, time in TIME_LIKE) {
        for text in [&text, &like, &time] {
            let _ = parse_time(text);
            if let Ok(duration) = text.parse::<IsoDuration>() {
                // A parsed duration is never negative.
                let from = Timestamp::from_second(1_900_000_000).expect("in range");
                let due = duration.after(from).expect("within ten years of 2030 is in range");
                prop_assert!(due >= from);
            }
        }
    }

    #[test]
    fn any_duration_added_to_any_time_never_panics(like in DURATION_LIKE, from in any_time()) {
        if let Ok(duration) = like.parse::<IsoDuration>()
            && let Some(due) = duration.after(from)
        {
            prop_assert!(due >= from);
        }
    }

    #[test]
    fn decide_never_panics_and_alarms_are_due_within_the_bound(
        after in after_text(), when in at_value(), now in any_time(),
    ) {
        let Ok(m) = machine(&after) else {
            // Refused: the duration did not parse, or is over the bound.
            prop_assert!(after.parse::<IsoDuration>().is_err());
            return Ok(());
        };
        let payload: Map<String, Value> = [("when".to_owned(), when)].into_iter().collect();
        let input = CommandInput {
            aggregate_type: "t", aggregate_id: "1", command: "On",
            payload: &payload, metadata: &Map::new(), now,
        };
        let state: AggregateState = m.initial_state();
        match m.decide_command(&state, &input) {
            Ok(decision) => {
                for alarm in decision.alarms.expect("alarms set").set {
                    prop_assert_eq!(alarm.due.subsec_nanosecond(), 0);
                    let limit = "P10Y".parse::<IsoDuration>().expect("parses").after(now);
                    prop_assert!(limit.is_some_and(|limit| alarm.due <= limit));
                }
            }
            Err(Rejection::AlarmInvalid { reason, .. }) => {
                prop_assert!(reason.contains("alarm `"), "{}", reason);
            }
            Err(other) => prop_assert!(false, "refused otherwise: {other}"),
        }
    }
}
