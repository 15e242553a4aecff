//! Alarms in `decide_command` (docs/alarms.md): set with `after` or `at`,
//! cleared, replaced, expiry at creation and rescheduled, a fired alarm
//! consumed, the bounds, and the four stale cases.

use serde_json::{Map, Value, json};
use state_machine::{
    ALARM_EARLY_TOLERANCE_SECONDS, AggregateState, Alarm, AlarmChanges, AlarmRef, CommandInput,
    Decision, EXPIRY, MAX_ALARMS, Rejection, Stale, StateMachine, Timestamp, alarm_command,
};

use crate::{machine, obj};

/// An order with a payment timeout, a reminder at a chosen time, and an
/// expiry.
fn order() -> Value {
    json!({
      "aggregateType": "order", "version": 1, "initialState": "New",
      "states": ["New", "AwaitingPayment", "Paid", "Cancelled", "Expired"],
      "expiry": { "after": "P30D", "command": "Expire", "payload": { "why": "idle" } },
      "transitions": [
        { "command": "Place", "from": ["New"], "to": "AwaitingPayment", "event": "Placed",
          "alarms": { "set": [
            { "name": "payment-timeout", "after": "PT15M", "command": "PaymentTimedOut" },
            { "name": "reminder", "at": { "var": "payload.remindAt" }, "command": "Remind",
              "payload": { "kind": "reminder" } } ] } },
        { "command": "Remind", "from": ["AwaitingPayment"], "to": "AwaitingPayment", "event": "Reminded",
          "alarms": { "set": [ { "name": "reminder", "after": "PT1H", "command": "Remind" } ] } },
        { "command": "Extend", "from": ["AwaitingPayment"], "to": "AwaitingPayment", "event": "Extended",
          "alarms": { "set": [ { "name": "payment-timeout", "after": "PT30M", "command": "PaymentTimedOut" },
                               { "name": "expiry" } ] } },
        { "command": "Pay", "from": ["AwaitingPayment"], "to": "Paid", "event": "Paid",
          "alarms": { "clear": [ "payment-timeout", "reminder" ] } },
        { "command": "PaymentTimedOut", "from": ["AwaitingPayment"], "to": "Cancelled", "event": "TimedOut",
          "alarms": { "clear": [ "reminder" ] } },
        { "command": "Expire", "from": ["AwaitingPayment", "Paid", "Cancelled"], "to": "Expired", "event": "Expired" }
      ]
    })
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("a time")
}

const NOW: &str = "2030-01-01T00:00:00.250Z";

fn run(
    m: &StateMachine,
    state: &AggregateState,
    command: &str,
    payload: Value,
    metadata: Value,
    now: &str,
) -> Result<Decision, Rejection> {
    let metadata = obj(metadata);
    // A fired alarm's command comes when it is due (the scheduler's way).
    let now = match AlarmRef::of_metadata(&metadata).and_then(|r| state.alarms.get(&r.name)) {
        Some(alarm) if alarm.due > at(now) => alarm.due,
        _ => at(now),
    };
    run_at(m, state, command, payload, &metadata, now)
}

/// `run` at exactly `now`.
fn run_at(
    m: &StateMachine,
    state: &AggregateState,
    command: &str,
    payload: Value,
    metadata: &Map<String, Value>,
    now: Timestamp,
) -> Result<Decision, Rejection> {
    let payload = obj(payload);
    m.decide_command(
        state,
        &CommandInput {
            aggregate_type: "order",
            aggregate_id: "o-1",
            command,
            payload: &payload,
            metadata,
            now,
        },
    )
}

/// Applies a decision as the handler does.
fn apply(state: &AggregateState, decision: &Decision, payload: &Value) -> AggregateState {
    let mut next = state.clone();
    let payload = decision
        .payload
        .clone()
        .unwrap_or_else(|| obj(payload.clone()));
    next.apply(&decision.to_state, &payload);
    if let Some(changes) = &decision.alarms {
        next.apply_alarms(changes);
    }
    next
}

fn step(
    m: &StateMachine,
    state: &AggregateState,
    command: &str,
    payload: Value,
    metadata: Value,
) -> (Decision, AggregateState) {
    let decision = run(m, state, command, payload.clone(), metadata, NOW)
        .unwrap_or_else(|e| panic!("{command} refused: {e}"));
    let next = apply(state, &decision, &payload);
    (decision, next)
}

/// The names a decision clears, in order.
fn cleared(decision: &Decision) -> Vec<&str> {
    let changes = decision.alarms.as_ref().expect("alarms change");
    changes.cleared.iter().map(|a| a.name.as_str()).collect()
}

fn placed(m: &StateMachine) -> AggregateState {
    let payload = json!({ "remindAt": "2030-01-01T06:00:00+02:00" });
    step(
        m,
        &m.initial_state(),
        "Place",
        payload,
        json!({ "correlationId": "flow-1" }),
    )
    .1
}

/// The metadata of the command alarm `name` of `state` sends.
fn fired(state: &AggregateState, name: &str) -> (String, Value) {
    let command = alarm_command("order", "o-1", &state.alarms[name]);
    (command.command, Value::Object(command.metadata))
}

#[test]
fn creation_sets_after_at_and_expiry_rounded_up_to_the_second() {
    let m = machine(&order());
    let payload = json!({ "remindAt": "2030-01-01T06:00:00+02:00" });
    let (decision, state) = step(
        &m,
        &m.initial_state(),
        "Place",
        payload,
        json!({ "correlationId": "flow-1" }),
    );
    let changes = decision.alarms.expect("alarms change");
    assert!(changes.cleared.is_empty());
    let due: Vec<(&str, Timestamp)> = changes
        .set
        .iter()
        .map(|a| (a.name.as_str(), a.due))
        .collect();
    assert_eq!(
        due,
        [
            (EXPIRY, at("2030-01-31T00:00:01Z")),
            ("payment-timeout", at("2030-01-01T00:15:01Z")),
            ("reminder", at("2030-01-01T04:00:00Z")),
        ]
    );
    let expiry = &state.alarms[EXPIRY];
    assert_eq!((expiry.version, expiry.command.as_str()), (1, "Expire"));
    assert_eq!(expiry.payload, obj(json!({ "why": "idle" })));
    assert_eq!(expiry.correlation_id.as_deref(), Some("flow-1"));
    assert_eq!(
        state.alarms["reminder"].payload,
        obj(json!({ "kind": "reminder" }))
    );
    assert_eq!(state.alarms.len(), 3);
}

#[test]
fn a_name_set_again_replaces_and_expiry_is_rescheduled() {
    let m = machine(&order());
    let state = placed(&m);
    let (decision, next) = step(&m, &state, "Extend", json!({}), json!({}));
    let changes = decision.alarms.expect("alarms change");
    let names = |alarms: &[Alarm]| alarms.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&changes.set), ["payment-timeout", EXPIRY]);
    assert_eq!(names(&changes.cleared), ["payment-timeout", EXPIRY]);
    assert!(changes.cleared.iter().all(|a| a.version == 1));
    assert_eq!(
        next.alarms["payment-timeout"].due,
        at("2030-01-01T00:30:01Z")
    );
    assert_eq!(next.alarms[EXPIRY].due, at("2030-01-31T00:00:01Z"));
    assert_eq!(
        next.alarms[EXPIRY].command, "Expire",
        "taken from the config's expiry"
    );
    assert!(
        next.alarms
            .values()
            .filter(|a| a.name != "reminder")
            .all(|a| a.version == 2)
    );
}

#[test]
fn clear_removes_and_an_absent_name_is_no_change() {
    let m = machine(&order());
    let state = placed(&m);
    let (decision, next) = step(&m, &state, "Pay", json!({}), json!({}));
    assert_eq!(cleared(&decision), ["payment-timeout", "reminder"]);
    assert_eq!(next.alarms.keys().collect::<Vec<_>>(), [EXPIRY]);
    // Clearing what is not set changes nothing.
    let (decision, _) = step(&m, &next, "Expire", json!({}), json!({}));
    assert_eq!(decision.alarms, None);
}

#[test]
fn a_fired_alarm_that_applies_is_consumed_and_may_set_itself_again() {
    let m = machine(&order());
    let state = placed(&m);
    let (command, metadata) = fired(&state, "payment-timeout");
    let (decision, next) = step(&m, &state, &command, json!({}), metadata);
    assert_eq!(decision.event_type, "TimedOut");
    assert_eq!(cleared(&decision), ["payment-timeout", "reminder"]);
    assert_eq!(next.alarms.keys().collect::<Vec<_>>(), [EXPIRY]);

    // A repeating reminder: consumed, then set again from now.
    let (command, metadata) = fired(&state, "reminder");
    let (decision, next) = step(
        &m,
        &state,
        &command,
        json!({ "kind": "reminder" }),
        metadata,
    );
    let changes = decision.alarms.expect("alarms change");
    assert_eq!((changes.cleared.len(), changes.set.len()), (1, 1));
    assert_eq!(next.alarms["reminder"].version, 2);
    // Fired when due (04:00Z), set again an hour after.
    assert_eq!(next.alarms["reminder"].due, at("2030-01-01T05:00:00Z"));
}

#[test]
fn the_four_stale_cases() {
    let m = machine(&order());
    let state = placed(&m);
    // Each copy carries its alarm's payload, as a firing does.
    let payload_of = |state: &AggregateState, metadata: &Value| {
        AlarmRef::of_metadata(&obj(metadata.clone()))
            .and_then(|r| state.alarms.get(&r.name))
            .map_or(json!({}), |a| Value::Object(a.payload.clone()))
    };
    let stale = |state: &AggregateState, command: &str, metadata: &Value| match run(
        &m,
        state,
        command,
        payload_of(state, metadata),
        metadata.clone(),
        NOW,
    ) {
        Err(rejection @ Rejection::Stale { .. }) => {
            assert!(rejection.is_stale());
            let Rejection::Stale { why, .. } = rejection else {
                unreachable!()
            };
            why
        }
        other => panic!("not stale: {other:?}"),
    };
    let (timeout, timeout_meta) = fired(&state, "payment-timeout");

    // Cleared before it fired.
    let (_, paid) = step(&m, &state, "Pay", json!({}), json!({}));
    assert_eq!(stale(&paid, &timeout, &timeout_meta), Stale::NotSet);

    // Replaced by a newer one.
    let (_, extended) = step(&m, &state, "Extend", json!({}), json!({}));
    assert_eq!(
        stale(&extended, &timeout, &timeout_meta),
        Stale::Replaced { by_version: 2 }
    );

    // The aggregate moved on: expiry is still set, but `Expire` does not
    // apply in `Expired`.
    let (expire, expire_meta) = fired(&state, EXPIRY);
    let (_, expired) = step(
        &m,
        &state,
        &expire,
        json!({ "why": "idle" }),
        expire_meta.clone(),
    );
    let mut moved = expired.clone();
    moved.alarms = state.alarms.clone();
    assert_eq!(stale(&moved, &expire, &expire_meta), Stale::MovedOn);

    // Delivered twice: the first copy consumed it.
    let (_, timed_out) = step(&m, &state, &timeout, json!({}), timeout_meta.clone());
    assert_eq!(stale(&timed_out, &timeout, &timeout_meta), Stale::NotSet);

    // A copy naming another command than the alarm's is not that alarm:
    // refused, and the reason says so (not "no longer set").
    match run(&m, &state, "Pay", json!({}), timeout_meta.clone(), NOW) {
        Err(rejection @ Rejection::AlarmMismatch { .. }) => {
            let text = rejection.to_string();
            assert!(
                text.contains("sends `PaymentTimedOut`, not this command"),
                "{text}"
            );
        }
        other => panic!("not a mismatch: {other:?}"),
    }
    assert!(
        Stale::Replaced { by_version: 2 }
            .to_string()
            .contains("version 2")
    );
}

#[test]
fn a_guard_refusing_a_fired_alarm_is_stale_not_a_failure() {
    let mut config = order();
    config["transitions"][4]["guard"] = json!({ "==": [ { "var": "data.late" }, true ] });
    let m = machine(&config);
    let state = placed(&m);
    let (command, metadata) = fired(&state, "payment-timeout");
    let refused = run(&m, &state, &command, json!({}), metadata, NOW);
    assert!(
        matches!(
            refused,
            Err(Rejection::Stale {
                why: Stale::MovedOn,
                ..
            })
        ),
        "{refused:?}"
    );
    // The same command sent by hand is refused as a guard failure.
    let by_hand = run(&m, &state, &command, json!({}), json!({}), NOW);
    assert!(
        matches!(by_hand, Err(Rejection::GuardFailed { .. })),
        "{by_hand:?}"
    );
}

#[test]
fn at_in_the_past_is_kept_and_fires_at_once() {
    let m = machine(&order());
    let payload = json!({ "remindAt": "2001-01-01T00:00:00.5Z" });
    let decision = run(&m, &m.initial_state(), "Place", payload, json!({}), NOW).unwrap();
    let reminder = decision
        .alarms
        .unwrap()
        .set
        .into_iter()
        .find(|a| a.name == "reminder")
        .unwrap();
    assert_eq!(reminder.due, at("2001-01-01T00:00:01Z"));
}

#[test]
fn a_bad_at_or_one_beyond_ten_years_is_alarm_invalid_without_quoting() {
    let m = machine(&order());
    for (remind_at, says) in [
        (json!("next tuesday hunter2"), "not an RFC 3339 time"),
        (json!(1_700_000_000), "gave a number"),
        (Value::Null, "gave null"),
        (json!("2030-01-01T00:00:00"), "not an RFC 3339 time"),
        (json!("2040-01-01T00:00:01Z"), "more than 10 years"),
    ] {
        let payload = json!({ "remindAt": remind_at });
        match run(&m, &m.initial_state(), "Place", payload, json!({}), NOW) {
            Err(Rejection::AlarmInvalid { command, reason }) => {
                assert_eq!(command, "Place");
                assert!(
                    reason.contains("transitions[0]") && reason.contains("alarm `reminder`"),
                    "{reason}"
                );
                assert!(reason.contains(says), "{reason}");
                assert!(
                    !reason.contains("hunter2") && !reason.contains("1700000000"),
                    "{reason}"
                );
            }
            other => panic!("{remind_at}: {other:?}"),
        }
    }
    // Exactly ten years is allowed.
    let payload = json!({ "remindAt": "2040-01-01T00:00:00Z" });
    assert!(run(&m, &m.initial_state(), "Place", payload, json!({}), NOW).is_ok());
}

#[test]
fn more_than_max_alarms_left_set_is_alarm_invalid() {
    let m = machine(&order());
    let template = placed(&m).alarms["reminder"].clone();
    // Alarms left by an older config, still set, on a new aggregate.
    let with_old = |n: usize| {
        let mut state = m.initial_state();
        for k in 0..n {
            let mut old = template.clone();
            old.name = format!("old-{k}");
            state.alarms.insert(old.name.clone(), old);
        }
        state
    };
    let payload = json!({ "remindAt": NOW });
    // `Place` sets three: 13 + 3 is the cap.
    assert!(
        run(
            &m,
            &with_old(MAX_ALARMS - 3),
            "Place",
            payload.clone(),
            json!({}),
            NOW
        )
        .is_ok()
    );
    match run(
        &m,
        &with_old(MAX_ALARMS - 2),
        "Place",
        payload,
        json!({}),
        NOW,
    ) {
        Err(Rejection::AlarmInvalid { reason, .. }) => {
            assert!(
                reason.contains("leave 17 alarms") && reason.contains("cap of 16"),
                "{reason}"
            );
            assert!(reason.contains("transitions[0]"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_transition_that_sets_expiry_at_creation_sets_it_once() {
    let mut config = order();
    config["transitions"][0]["alarms"]["set"][0] =
        json!({ "name": "expiry", "after": "P2D", "command": "Expire" });
    let m = machine(&config);
    let decision = run(
        &m,
        &m.initial_state(),
        "Place",
        json!({ "remindAt": NOW }),
        json!({}),
        NOW,
    )
    .unwrap();
    let set = decision.alarms.unwrap().set;
    let expiries: Vec<&Alarm> = set.iter().filter(|a| a.name == EXPIRY).collect();
    assert_eq!(expiries.len(), 1);
    assert_eq!(expiries[0].due, at("2030-01-03T00:00:01Z"));
}

#[test]
fn alarms_survive_serde_in_the_state_and_changes() {
    let m = machine(&order());
    let state = placed(&m);
    let text = serde_json::to_string(&state).unwrap();
    assert!(text.contains(r#""due":"2030-01-01T00:15:01Z""#), "{text}");
    assert_eq!(
        serde_json::from_str::<AggregateState>(&text).unwrap(),
        state
    );
    let bare = r#"{"state":"New","version":0,"data":{}}"#;
    assert!(
        serde_json::from_str::<AggregateState>(bare)
            .unwrap()
            .alarms
            .is_empty()
    );
    let changes = AlarmChanges {
        set: state.alarms.values().cloned().collect(),
        cleared: Vec::new(),
    };
    let text = serde_json::to_string(&changes).unwrap();
    assert!(!text.contains("cleared"), "{text}");
    assert_eq!(
        serde_json::from_str::<AlarmChanges>(&text).unwrap(),
        changes
    );
    let _: Map<String, Value> = obj(json!({}));
}

#[test]
fn a_firing_before_its_due_time_is_refused_as_not_due() {
    let m = machine(&order());
    let state = placed(&m);
    let due = state.alarms["payment-timeout"].due;
    let (command, metadata) = fired(&state, "payment-timeout");
    let metadata = obj(metadata);
    // Fifteen minutes early: a forged firing.
    let early = run_at(&m, &state, &command, json!({}), &metadata, at(NOW));
    match &early {
        Err(rejection @ Rejection::AlarmNotDue { alarm, version }) => {
            assert_eq!((alarm.as_str(), *version), ("payment-timeout", 1));
            assert!(rejection.to_string().contains("payment-timeout"));
        }
        other => panic!("not refused as not due: {other:?}"),
    }
    // Just past the tolerance: still refused.
    let tolerance = state_machine::SignedDuration::from_secs(ALARM_EARLY_TOLERANCE_SECONDS);
    let too_early = due
        .checked_sub(tolerance)
        .unwrap()
        .checked_sub(state_machine::SignedDuration::from_secs(1))
        .unwrap();
    assert!(matches!(
        run_at(&m, &state, &command, json!({}), &metadata, too_early),
        Err(Rejection::AlarmNotDue { .. })
    ));
    // Within the scheduler's tolerance: it applies.
    let on_time = due.checked_sub(tolerance).unwrap();
    let applied = run_at(&m, &state, &command, json!({}), &metadata, on_time).expect("applies");
    assert_eq!(applied.event_type, "TimedOut");
}

#[test]
fn a_firing_with_another_payload_is_refused_as_a_mismatch() {
    let m = machine(&order());
    let state = placed(&m);
    let (command, metadata) = fired(&state, "reminder");
    let forged = run(
        &m,
        &state,
        &command,
        json!({ "kind": "secret-value" }),
        metadata.clone(),
        NOW,
    );
    match forged {
        Err(rejection @ Rejection::AlarmMismatch { .. }) => {
            let text = rejection.to_string();
            assert!(
                text.contains("payload is not the alarm's payload"),
                "{text}"
            );
            assert!(text.contains("reminder"), "{text}");
            assert!(!text.contains("secret-value"), "{text}");
        }
        other => panic!("not a mismatch: {other:?}"),
    }
    // The alarm's own payload applies.
    run(
        &m,
        &state,
        &command,
        json!({ "kind": "reminder" }),
        metadata,
        NOW,
    )
    .expect("applies");
}

#[test]
fn a_rule_that_fails_on_a_fired_alarm_is_a_failure_not_stale() {
    // A `set` that cannot be evaluated (a number from a missing value).
    let mut config = order();
    config["transitions"][4]["set"] = json!({ "late": { "+": [ { "var": "data.missing" }, 1 ] } });
    let m = machine(&config);
    let state = placed(&m);
    let (command, metadata) = fired(&state, "payment-timeout");
    match run(&m, &state, &command, json!({}), metadata, NOW) {
        Err(Rejection::GuardFailed { reason, .. }) => {
            assert!(
                reason.contains("`set.late` could not be evaluated"),
                "{reason}"
            );
        }
        other => panic!("not a failure: {other:?}"),
    }

    // A guard that cannot be evaluated.
    let mut config = order();
    config["transitions"][4]["guard"] =
        json!({ ">": [ { "-": [ { "var": "data.missing" }, 1 ] }, 0 ] });
    let m = machine(&config);
    let state = placed(&m);
    let (command, metadata) = fired(&state, "payment-timeout");
    match run(&m, &state, &command, json!({}), metadata, NOW) {
        Err(Rejection::GuardFailed { reason, .. }) => {
            assert!(reason.contains("guard could not be evaluated"), "{reason}");
        }
        other => panic!("not a failure: {other:?}"),
    }
}

#[test]
fn an_alarm_carries_the_hops_of_its_setting_command_and_stops_at_the_limit() {
    let m = machine(&order());
    let payload = json!({ "remindAt": "2030-01-01T06:00:00+02:00" });
    let (_, state) = step(
        &m,
        &m.initial_state(),
        "Place",
        payload.clone(),
        json!({ "hops": 5 }),
    );
    let timeout = &state.alarms["payment-timeout"];
    assert_eq!(timeout.hops, 6);
    let command = alarm_command("order", "o-1", timeout);
    assert_eq!(command.metadata["hops"], 6);

    // Its firing sets the reminder again one hop further.
    let (command, metadata) = fired(&state, "reminder");
    let (_, next) = step(
        &m,
        &state,
        &command,
        json!({ "kind": "reminder" }),
        metadata,
    );
    assert_eq!(next.alarms["reminder"].hops, 7);

    // A command at the hop limit sets no alarm: refused as alarm_invalid.
    let refused = run(
        &m,
        &m.initial_state(),
        "Place",
        payload,
        json!({ "hops": state_machine::MAX_HOPS }),
        NOW,
    );
    match refused {
        Err(Rejection::AlarmInvalid { reason, .. }) => {
            assert!(reason.contains("hop limit"), "{reason}");
        }
        other => panic!("not refused: {other:?}"),
    }
}
