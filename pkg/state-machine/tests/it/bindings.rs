//! `bindings`: what a config may bind (validation, alone and across a set)
//! and the command an outside event becomes.

use serde_json::{Value, json};
use state_machine::{MAX_BINDINGS, StateMachine, binding_rules, ids, validate_set};

/// A payment config with `bindings` as given.
fn payment(bindings: Value) -> Value {
    json!({
        "aggregateType": "payment", "version": 1, "initialState": "Pending",
        "states": ["Pending", "Confirmed", "Declined"],
        "transitions": [
            { "command": "ConfirmCharge", "from": ["Pending"], "to": "Confirmed",
              "event": "ChargeConfirmed",
              "payloadSchema": { "type": "object", "required": ["reference"],
                                 "properties": { "reference": { "type": "string" } } } },
            { "command": "DeclineCharge", "from": ["Pending"], "to": "Declined",
              "event": "ChargeDeclined" }
        ],
        "bindings": bindings
    })
}

fn machine(config: &Value) -> Result<StateMachine, state_machine::ConfigError> {
    StateMachine::from_json(config.to_string().as_bytes())
}

fn faults(config: &Value) -> Vec<String> {
    machine(config)
        .expect_err("refused")
        .faults
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn succeeded() -> Value {
    json!({ "source": "payments.provider", "detailType": "PaymentSucceeded",
            "command": "ConfirmCharge", "aggregateId": { "var": "detail.orderId" },
            "payload": { "reference": { "var": "detail.ref" } } })
}

fn event(id: &str, detail: Value) -> Value {
    json!({ "version": "0", "id": id, "source": "payments.provider",
            "detail-type": "PaymentSucceeded", "account": "123456789012",
            "time": "2030-01-01T12:00:00Z", "region": "eu-west-1", "resources": [],
            "detail": detail })
}

#[test]
fn a_bound_event_becomes_its_command() {
    let m = machine(&payment(json!([succeeded()]))).expect("valid");
    let built = m
        .bind(&event("e-1", json!({ "orderId": "o-1", "ref": "r-9" })))
        .expect("bound")
        .expect("built");
    assert_eq!(built.command_id, "payments.provider/e-1");
    assert_eq!(built.aggregate_type, "payment");
    assert_eq!(built.aggregate_id, "o-1");
    assert_eq!(built.command, "ConfirmCharge");
    assert_eq!(
        Value::Object(built.payload.clone()),
        json!({ "reference": "r-9" })
    );
    assert_eq!(built.expected_version, None);
    assert_eq!(
        Value::Object(built.metadata.clone()),
        json!({ "correlationId": "e-1" })
    );
    // It serializes to the command message of docs/reference.md §1.
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({ "commandId": "payments.provider/e-1", "aggregateType": "payment",
                "aggregateId": "o-1", "command": "ConfirmCharge",
                "payload": { "reference": "r-9" }, "metadata": { "correlationId": "e-1" } })
    );
    // Another detail-type or source is not this config's.
    let mut other = event("e-2", json!({}));
    other["detail-type"] = json!("PaymentFailed");
    assert!(m.bind(&other).is_none());
    assert_eq!(
        m.binding_of("payments.provider", "PaymentSucceeded"),
        Some(0)
    );
    assert_eq!(m.binding_of("payments.other", "PaymentSucceeded"), None);
}

#[test]
fn the_event_carries_its_correlation_and_a_long_id_is_hashed() {
    let m = machine(&payment(json!([succeeded()]))).expect("valid");
    let detail = json!({ "orderId": 42, "ref": "r",
                         "metadata": { "correlationId": "flow-7" } });
    let long = "x".repeat(300);
    let built = m.bind(&event(&long, detail)).unwrap().unwrap();
    assert_eq!(built.aggregate_id, "42");
    assert_eq!(built.metadata["correlationId"], "flow-7");
    assert_eq!(
        built.command_id,
        ids::binding_command_id("payments.provider", &long)
    );
    assert!(built.command_id.ends_with("@b") && built.command_id.len() == 66);
}

#[test]
fn expected_version_is_a_literal_or_a_rule() {
    let mut binding = succeeded();
    binding["expectedVersion"] = json!({ "var": "detail.version" });
    let m = machine(&payment(json!([binding]))).expect("valid");
    let built = |detail: Value| m.bind(&event("e", detail)).unwrap();
    let ok = built(json!({ "orderId": "o", "ref": "r", "version": 3 })).unwrap();
    assert_eq!(ok.expected_version, Some(3));
    let absent = built(json!({ "orderId": "o", "ref": "r" })).unwrap();
    assert_eq!(absent.expected_version, None);
    let err = built(json!({ "orderId": "o", "ref": "r", "version": "3" })).unwrap_err();
    assert!(err.reason.contains("`expectedVersion`"), "{err}");
}

#[test]
fn a_rule_that_builds_no_id_fails_naming_the_field_never_the_value() {
    let m = machine(&payment(json!([succeeded()]))).expect("valid");
    for detail in [
        json!({ "ref": "SECRET" }),
        json!({ "orderId": ["SECRET"] }),
        json!({ "orderId": "" }),
    ] {
        let err = m.bind(&event("e-3", detail.clone())).unwrap().unwrap_err();
        assert_eq!(err.event_id, "e-3");
        assert!(err.binding.starts_with("bindings[0]"), "{err}");
        assert!(err.reason.contains("`aggregateId`"), "{detail}: {err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}

#[test]
fn validation_names_each_fault() {
    let cases = [
        (
            json!({ "source": "", "detailType": "", "command": "ConfirmCharge", "aggregateId": "o",
                 "payload": { "reference": "r" } }),
            vec![
                "bindings[0].source: must not be empty",
                "bindings[0].detailType: must not be empty",
            ],
        ),
        (
            json!({ "source": "s", "detailType": "d", "command": "Refund", "aggregateId": "o" }),
            vec!["bindings[0].command: command `Refund` is not one of type `payment`'s"],
        ),
        (
            json!({ "source": "s", "detailType": "d", "command": "ConfirmCharge", "aggregateId": "o",
                 "payload": { "reference": 5 } }),
            vec![
                "bindings[0].payload: the payload (all literals) violates the command's payloadSchema",
            ],
        ),
        (
            json!({ "source": "s", "detailType": "d", "command": "DeclineCharge", "aggregateId": true }),
            vec!["bindings[0].aggregateId: must be a non-empty string or a number"],
        ),
        (
            json!({ "source": "s", "detailType": "d", "command": "DeclineCharge", "aggregateId": "o",
                 "expectedVersion": -1 }),
            vec!["bindings[0].expectedVersion: must be a non-negative integer"],
        ),
        (
            json!({ "source": "s", "detailType": "d", "command": "DeclineCharge",
                 "aggregateId": { "no_such_op": [] } }),
            vec!["bindings[0].aggregateId: uses the unknown JSON Logic operator `no_such_op`"],
        ),
    ];
    for (binding, wanted) in cases {
        let got = faults(&payment(json!([binding])));
        for want in wanted {
            assert!(got.iter().any(|f| f.starts_with(want)), "{want}: {got:?}");
        }
    }
    // A rule over the size budget is refused like any rule.
    let mut deep = json!({ "var": "detail.id" });
    for _ in 0..20 {
        deep = json!({ "if": [true, deep, null] });
    }
    let binding = json!({ "source": "s", "detailType": "d", "command": "DeclineCharge",
                          "aggregateId": deep });
    let got = faults(&payment(json!([binding])));
    assert!(
        got.iter().any(|f| f.starts_with("bindings[0].aggregateId")),
        "{got:?}"
    );
    // A payload with a rule is checked when the event comes, not now.
    assert!(machine(&payment(json!([succeeded()]))).is_ok());
    // One config binding one event twice.
    let got = faults(&payment(json!([succeeded(), succeeded()])));
    assert!(
        got.iter()
            .any(|f| f.contains("bindings[0] and bindings[1] both bind")),
        "{got:?}"
    );
    // A typo in a binding's field is a shape fault.
    let mut typo = succeeded();
    typo["detail_type"] = json!("x");
    let err = machine(&payment(json!([typo]))).unwrap_err().to_string();
    assert!(err.contains("unknown field `detail_type`"), "{err}");
}

#[test]
fn the_set_refuses_one_event_bound_twice_and_too_many_bindings() {
    let payment = machine(&payment(json!([succeeded()]))).unwrap();
    let mut other = json!({
        "aggregateType": "order", "version": 1, "initialState": "New", "states": ["New"],
        "transitions": [ { "command": "Confirm", "from": ["New"], "to": "New", "event": "Confirmed",
                           "guard": false } ],
        "bindings": [ { "source": "payments.provider", "detailType": "PaymentSucceeded",
                        "command": "Confirm", "aggregateId": "o-1" } ]
    });
    let order = machine(&other).unwrap();
    let faults = validate_set(&[&payment, &order]);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].aggregate_type, "order");
    let message = faults[0].fault.to_string();
    assert!(message.contains("payment.bindings[0]"), "{message}");
    assert!(message.contains("order.bindings[0]"), "{message}");

    let many: Vec<Value> = (0..=MAX_BINDINGS)
        .map(|n| {
            json!({ "source": "s", "detailType": format!("d{n}"), "command": "Confirm",
                         "aggregateId": "o" })
        })
        .collect();
    other["bindings"] = Value::Array(many);
    let order = machine(&other).unwrap();
    let faults = validate_set(&[&order]);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert!(
        faults[0].fault.message.contains("more than 300 bindings"),
        "{faults:?}"
    );
    assert_eq!(faults[0].fault.path, format!("bindings[{MAX_BINDINGS}]"));
}

#[test]
fn each_binding_of_a_set_is_one_rule_matching_exactly_its_event() {
    let mut failed = succeeded();
    failed["detailType"] = json!("PaymentFailed");
    failed["command"] = json!("DeclineCharge");
    failed["payload"] = json!({});
    let payment = machine(&payment(json!([succeeded(), failed]))).unwrap();
    let ticket = machine(&json!({
        "aggregateType": "ticket", "version": 1, "initialState": "Open", "states": ["Open"],
        "transitions": [ { "command": "Note", "from": ["Open"], "to": "Open", "event": "Noted" } ],
        "bindings": [ { "source": "mail.inbox", "detailType": "ReplyReceived", "command": "Note",
                        "aggregateId": { "var": "detail.ticket" } } ]
    }))
    .unwrap();
    let rules = binding_rules(&[&ticket, &payment]);
    let summary: Vec<(&str, &str, &str, &str)> = rules
        .iter()
        .map(|r| {
            (
                r.source.as_str(),
                r.detail_type.as_str(),
                r.aggregate_type.as_str(),
                r.command.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("mail.inbox", "ReplyReceived", "ticket", "Note"),
            (
                "payments.provider",
                "PaymentFailed",
                "payment",
                "DeclineCharge"
            ),
            (
                "payments.provider",
                "PaymentSucceeded",
                "payment",
                "ConfirmCharge"
            ),
        ]
    );
    assert_eq!(
        rules[2].event_pattern,
        json!({ "source": ["payments.provider"], "detail-type": ["PaymentSucceeded"] })
    );
    assert_eq!(
        rules[2].logical_id,
        ids::binding_rule_id("payments.provider", "PaymentSucceeded")
    );
    assert_eq!(
        serde_json::to_value(&rules[0]).unwrap()["logicalId"],
        json!(ids::binding_rule_id("mail.inbox", "ReplyReceived"))
    );
    assert!(binding_rules(&[]).is_empty());
}
