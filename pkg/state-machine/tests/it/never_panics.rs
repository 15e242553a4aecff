//! Property tests: no input makes the crate panic.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use state_machine::{
    AggregateState, CommandInput, Config, EventView, ReactionSpec, StateMachine, Transition,
};

use crate::contract_example;

/// Words that steer generated JSON towards configs and schemas.
const WORDS: &[&str] = &[
    "aggregateType",
    "version",
    "initialState",
    "states",
    "transitions",
    "command",
    "from",
    "to",
    "event",
    "payloadSchema",
    "New",
    "Created",
    "CreateOrder",
    "itemId",
    "quantity",
    "type",
    "object",
    "string",
    "integer",
    "properties",
    "required",
    "items",
    "minimum",
    "pattern",
    "$ref",
    "#",
    "#/$defs/a",
    "$defs",
    "a",
    "$schema",
    "$id",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "enum",
    "const",
    "format",
    "date-time",
    "additionalProperties",
    "unevaluatedProperties",
    "$dynamicRef",
    "$anchor",
    "if",
    "then",
    "else",
    "",
    "(",
    "^[a-z]+$",
    "var",
    "payload.itemId",
    "cat",
    "+",
    "map",
    "reduce",
    "substr",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => ".{0,8}",
    ]
}

/// A small recursive JSON value.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        word().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(word(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn payload() -> impl Strategy<Value = Map<String, Value>> {
    proptest::collection::btree_map(word(), json_value(), 0..5)
        .prop_map(|m| m.into_iter().collect())
}

/// A reaction of the right shape with arbitrary values and rules.
fn reaction() -> impl Strategy<Value = ReactionSpec> {
    (
        proptest::option::of(json_value()),
        proptest::option::of(json_value()),
        json_value(),
        proptest::option::of(payload()),
    )
        .prop_map(
            |(aggregate_type, aggregate_id, command, payload)| ReactionSpec {
                aggregate_type,
                aggregate_id,
                command,
                payload,
            },
        )
}

/// A config of the right shape with arbitrary names, schemas and reactions.
fn config() -> impl Strategy<Value = Config> {
    let transition = (
        word(),
        proptest::collection::vec(word(), 0..3),
        word(),
        word(),
        proptest::option::of(json_value()),
        proptest::collection::vec(reaction(), 0..3),
    )
        .prop_map(
            |(command, from, to, event, payload_schema, then)| Transition {
                command,
                from,
                to,
                event,
                payload_schema,
                then,
                guard: None,
                guard_message: None,
                set: None,
                alarms: None,
            },
        );
    (
        word(),
        any::<u64>(),
        word(),
        proptest::collection::vec(word(), 0..5),
        proptest::collection::vec(transition, 0..4),
    )
        .prop_map(
            |(aggregate_type, version, initial_state, states, transitions)| Config {
                aggregate_type,
                version,
                initial_state,
                states,
                transitions,
                publish: false,
                expiry: None,
                bindings: Vec::new(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = StateMachine::from_json(&bytes);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let _ = StateMachine::from_json(&serde_json::to_vec(&value).expect("serializable"));
    }

    #[test]
    fn arbitrary_configs_and_schemas_never_panic(config in config(), payload in payload(), state in word(), command in word()) {
        let json = serde_json::to_vec(&config).expect("serializable");
        let from_bytes = StateMachine::from_json(&json);
        let from_config = StateMachine::from_config(config);
        prop_assert_eq!(from_bytes.is_ok(), from_config.is_ok());
        if let Ok(m) = from_config {
            let current = AggregateState { alarms: Default::default(), state, version: 1, data: Map::new() };
            let _ = m.decide(&current, &command, &payload);
            for t in &m.config().transitions {
                let view = EventView {
                    aggregate_type: "t", aggregate_id: "i", version: 1, event_type: &t.event,
                    state: &t.to, data: &payload, payload: &payload, metadata: &payload,
                    command_id: "c", config_version: m.version(),
                };
                let _ = m.reactions(&view);
            }
        }
    }

    #[test]
    fn decide_with_arbitrary_payloads_never_panics(payload in payload(), quantity in json_value(), state in word()) {
        let mut config = contract_example();
        config["transitions"][0]["payloadSchema"]["properties"]["extra"] =
            json!({ "type": "array", "items": { "type": "object", "required": ["a"] }, "maxItems": 2 });
        let m = StateMachine::from_json(&serde_json::to_vec(&config).expect("serializable")).expect("valid");
        let mut payload = payload;
        payload.insert("quantity".into(), quantity);
        let _ = m.decide(&m.initial_state(), "CreateOrder", &payload);
        let current = AggregateState { alarms: Default::default(), state, version: 0, data: Map::new() };
        let _ = m.decide(&current, "CreateOrder", &payload);
        let mut folded = m.initial_state();
        folded.apply("Created", &payload);
        prop_assert_eq!(folded.version, 1);
    }

    #[test]
    fn decide_command_with_guards_and_set_never_panics(
        payload in payload(), data in payload(), metadata in payload(), quantity in json_value(), stock in json_value(),
    ) {
        let m = StateMachine::from_json(&serde_json::to_vec(&guarded()).expect("serializable")).expect("valid");
        let mut payload = payload;
        payload.insert("quantity".into(), quantity);
        let mut data = data;
        data.insert("stock".into(), stock);
        let current = AggregateState { alarms: Default::default(), state: "Available".into(), version: 3, data };
        for command in ["Reserve", "Compute"] {
            let input = CommandInput { now: state_machine::Timestamp::now(),
                aggregate_type: "inventory", aggregate_id: "sku-1", command,
                payload: &payload, metadata: &metadata,
            };
            if let Ok(decision) = m.decide_command(&current, &input) {
                let mut next = current.clone();
                next.apply(&decision.to_state, decision.payload.as_ref().unwrap_or(&payload));
                prop_assert_eq!(next.version, 4);
            }
        }
    }

    #[test]
    fn reactions_of_arbitrary_events_never_panic(
        payload in payload(), data in payload(), metadata in payload(),
        id in word(), state in word(), version in any::<u64>(), quantity in json_value(),
    ) {
        let m = StateMachine::from_json(REACTING.as_bytes()).expect("valid");
        let mut payload = payload;
        payload.insert("quantity".into(), quantity);
        for (event_type, state) in [("OrderCreated", "Created"), ("OrderCreated", state.as_str())] {
            let view = EventView {
                aggregate_type: "order", aggregate_id: &id, version, event_type, state,
                data: &data, payload: &payload, metadata: &metadata, command_id: "c",
                config_version: m.version(),
            };
            for command in m.reactions(&view).into_iter().flatten() {
                prop_assert!(!command.aggregate_id.is_empty() && !command.command.is_empty());
                prop_assert!(command.command_id.len() <= 256);
            }
        }
    }
}

/// A config whose reactions read every part of the event.
const REACTING: &str = r#"{
  "aggregateType": "order", "version": 1, "initialState": "New", "states": ["New", "Created"],
  "transitions": [
    { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
      "then": [
        { "aggregateType": {"cat": ["x", {"var": "data.type"}]}, "aggregateId": {"var": "payload.itemId"},
          "command": {"if": [{"var": "metadata.a"}, "A", {"var": "payload.command"}]},
          "payload": { "q": {"*": [{"var": "payload.quantity"}, 2]},
                       "s": {"substr": [{"var": "payload.itemId"}, 1, {"var": "payload.quantity"}]},
                       "m": {"map": [{"var": "payload.items"}, {"+": [{"var": ""}, 1]}]},
                       "r": {"reduce": [{"var": "data.items"}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]},
                       "d": {"/": [{"var": "version"}, {"var": "payload.quantity"}]},
                       "i": {"in": [{"var": "state"}, {"var": "payload.list"}]} } },
        { "command": "Literal", "aggregateId": {"var": "aggregateId"} }
      ] }
  ]
}"#;

/// Guards and `set` that read whatever the payload and data hold, with
/// operators that fail on the wrong types.
fn guarded() -> Value {
    json!({
      "aggregateType": "inventory", "version": 1, "initialState": "Available",
      "states": ["Available"],
      "transitions": [
        { "command": "Reserve", "from": ["Available"], "to": "Available", "event": "StockReserved",
          "guard": { ">=": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] },
          "guardMessage": "not enough stock",
          "set": { "stock": { "-": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] } } },
        { "command": "Reserve", "from": ["Available"], "to": "Available", "event": "StockShortage",
          "guard": { "in": [ { "var": "payload.quantity" }, { "var": "data.stock" } ] } },
        { "command": "Compute", "from": ["Available"], "to": "Available", "event": "Computed",
          "set": { "ratio": { "/": [ { "var": "data.stock" }, { "var": "payload.quantity" } ] },
                   "label": { "cat": [ { "var": "metadata" }, { "var": "payload" } ] },
                   "items": { "map": [ { "var": "payload.quantity" }, { "*": [ { "var": "" }, 2 ] } ] },
                   "total": { "reduce": [ { "var": "data.stock" },
                                          { "+": [ { "var": "accumulator" }, { "var": "current" } ] }, 0 ] },
                   "sub": { "substr": [ { "var": "payload.quantity" }, { "var": "data.stock" } ] } } }
      ]
    })
}
