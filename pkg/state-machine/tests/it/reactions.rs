//! `publish` and `then`: validation, and the commands built from a stored event.

use serde_json::{Map, Value, json};
use state_machine::ids::event_id;
use state_machine::{DerivedCommand, EventView, ReactionError, StateMachine};

use crate::{machine, obj, refused};

/// An order whose `OrderCreated` reserves stock and notifies; published.
fn chain() -> Value {
    json!({
      "aggregateType": "order",
      "version": 1,
      "initialState": "New",
      "states": ["New", "Created", "Cancelled"],
      "publish": true,
      "transitions": [
        { "command": "CreateOrder", "from": ["New"], "to": "Created", "event": "OrderCreated",
          "then": [
            { "aggregateType": "inventory", "aggregateId": {"var": "payload.itemId"},
              "command": "Reserve",
              "payload": { "orderId": {"var": "aggregateId"},
                           "quantity": {"*": [{"var": "payload.quantity"}, 1]},
                           "note": "from an order" } },
            { "command": "Confirm" }
          ] },
        { "command": "CancelOrder", "from": ["Created"], "to": "Cancelled", "event": "OrderCancelled" }
      ]
    })
}

struct Stored {
    payload: Map<String, Value>,
    metadata: Map<String, Value>,
    data: Map<String, Value>,
}

impl Stored {
    fn new(payload: Value) -> Self {
        Stored {
            data: obj(payload.clone()),
            payload: obj(payload),
            metadata: Map::new(),
        }
    }

    fn view<'a>(&'a self, id: &'a str, event_type: &'a str, state: &'a str) -> EventView<'a> {
        EventView {
            aggregate_type: "order",
            aggregate_id: id,
            version: 1,
            event_type,
            state,
            data: &self.data,
            payload: &self.payload,
            metadata: &self.metadata,
            command_id: "cmd-1",
            config_version: 1,
        }
    }
}

fn built(results: Vec<Result<DerivedCommand, ReactionError>>) -> Vec<DerivedCommand> {
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|err| panic!("not built: {err}")))
        .collect()
}

#[test]
fn reactions_are_built_in_then_order_with_deterministic_ids_and_metadata() {
    let m = machine(&chain());
    assert!(m.publishes());
    let stored = Stored::new(json!({"itemId": "sku-1", "quantity": 2}));
    let commands = built(m.reactions(&stored.view("o-1", "OrderCreated", "Created")));
    assert_eq!(commands.len(), 2);
    let reserve = serde_json::to_value(&commands[0]).unwrap();
    assert_eq!(
        reserve,
        json!({
            "commandId": "order#o-1@1/0",
            "aggregateType": "inventory",
            "aggregateId": "sku-1",
            "command": "Reserve",
            "payload": {"orderId": "o-1", "quantity": 2, "note": "from an order"},
            "metadata": {"correlationId": "cmd-1", "causationId": "order#o-1@1", "hops": 1}
        })
    );
    // Defaults: the event's own aggregate, an empty payload.
    let confirm = &commands[1];
    assert_eq!(
        (
            confirm.command_id.as_str(),
            confirm.aggregate_type.as_str(),
            confirm.aggregate_id.as_str()
        ),
        ("order#o-1@1/1", "order", "o-1")
    );
    assert!(confirm.payload.is_empty());
    // The same event again builds the same commands.
    assert_eq!(
        built(m.reactions(&stored.view("o-1", "OrderCreated", "Created"))),
        commands
    );
    assert_eq!(event_id("order", "o-1", 1), "order#o-1@1");
}

#[test]
fn the_correlation_id_of_the_event_is_kept() {
    let m = machine(&chain());
    let mut stored = Stored::new(json!({"itemId": "sku-1", "quantity": 1}));
    stored
        .metadata
        .insert("correlationId".into(), json!("flow-7"));
    let commands = built(m.reactions(&stored.view("o-1", "OrderCreated", "Created")));
    for c in &commands {
        assert_eq!(c.metadata["correlationId"], "flow-7");
        assert_eq!(c.metadata["causationId"], "order#o-1@1");
    }
    // A correlation id that is not a string is not copied.
    stored.metadata.insert("correlationId".into(), json!(7));
    let commands = built(m.reactions(&stored.view("o-1", "OrderCreated", "Created")));
    assert_eq!(commands[0].metadata["correlationId"], "cmd-1");
}

#[test]
fn a_number_id_becomes_its_text_and_a_long_id_is_hashed() {
    let m = machine(&chain());
    let stored = Stored::new(json!({"itemId": 42, "quantity": 1}));
    let long = "x".repeat(250);
    let commands = built(m.reactions(&stored.view(&long, "OrderCreated", "Created")));
    assert_eq!(commands[0].aggregate_id, "42");
    let id = &commands[0].command_id;
    assert!(id.ends_with("@r") && id.len() == 66, "{id}");
    assert_ne!(commands[0].command_id, commands[1].command_id);
}

#[test]
fn a_reaction_that_cannot_be_built_says_which_field_and_never_the_value() {
    let m = machine(&chain());
    for bad in [
        json!({"quantity": 1}),
        json!({"itemId": "", "quantity": 1}),
        json!({"itemId": ["secret-sku"]}),
    ] {
        let stored = Stored::new(bad.clone());
        let results = m.reactions(&stored.view("o-1", "OrderCreated", "Created"));
        let err = results[0].clone().expect_err("no usable item id");
        assert_eq!((err.index, err.command.as_deref()), (0, Some("Reserve")));
        assert_eq!(err.event_id, "order#o-1@1");
        let text = err.to_string();
        assert!(text.contains("aggregateId"), "{text}");
        assert!(!text.contains("secret-sku"), "{text}");
        // The other reaction is still built.
        assert!(results[1].is_ok(), "{bad}");
    }
}

#[test]
fn no_matching_transition_or_no_then_means_no_reactions() {
    let m = machine(&chain());
    let stored = Stored::new(json!({}));
    assert!(
        m.reactions(&stored.view("o-1", "OrderCancelled", "Cancelled"))
            .is_empty()
    );
    assert!(
        m.reactions(&stored.view("o-1", "OrderCreated", "Cancelled"))
            .is_empty()
    );
    assert!(
        m.reactions(&stored.view("o-1", "Gone", "Created"))
            .is_empty()
    );
}

#[test]
fn publish_defaults_to_false_and_is_left_out_when_false() {
    let mut config = chain();
    config.as_object_mut().unwrap().remove("publish");
    let m = machine(&config);
    assert!(!m.publishes());
    let text = serde_json::to_value(m.config()).unwrap();
    assert!(text.get("publish").is_none());
    assert!(text["transitions"][1].get("then").is_none());
    assert_eq!(
        text["transitions"][0]["then"],
        chain()["transitions"][0]["then"]
    );
}

#[test]
fn an_unknown_operator_is_a_fault_naming_the_transition_and_field() {
    let mut config = chain();
    config["transitions"][0]["then"][0]["payload"]["quantity"] = json!({"times": [1, 2]});
    let faults = refused(&config);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].path, "transitions[0].then[0].payload.quantity");
    assert!(
        faults[0].message.contains("`times`"),
        "{}",
        faults[0].message
    );
}

#[test]
fn literal_names_must_be_non_empty_strings() {
    let mut config = chain();
    config["transitions"][0]["then"][1]["command"] = json!("");
    config["transitions"][0]["then"][0]["aggregateType"] = json!(3);
    config["transitions"][0]["then"][0]["aggregateId"] = json!(false);
    let paths: Vec<String> = refused(&config).into_iter().map(|f| f.path).collect();
    assert_eq!(
        paths,
        [
            "transitions[0].then[0].aggregateType",
            "transitions[0].then[0].aggregateId",
            "transitions[0].then[1].command"
        ]
    );
    // A number is a valid literal id.
    config["transitions"][0]["then"][1]["command"] = json!("Confirm");
    config["transitions"][0]["then"][0]["aggregateType"] = json!("inventory");
    config["transitions"][0]["then"][0]["aggregateId"] = json!(7);
    let _ = machine(&config);
}

#[test]
fn a_reaction_without_a_command_or_with_an_unknown_field_is_refused() {
    let mut config = chain();
    config["transitions"][0]["then"][1] = json!({"aggregateId": "x"});
    let faults = refused(&config);
    assert!(faults[0].message.contains("command"), "{faults:?}");
    let mut config = chain();
    config["transitions"][0]["then"][1]["comand"] = json!("X");
    let faults = refused(&config);
    assert!(faults[0].message.contains("comand"), "{faults:?}");
}

#[test]
fn the_same_event_into_the_same_state_must_list_the_same_then() {
    let mut config = chain();
    config["transitions"][1] = json!({ "command": "Recreate", "from": ["Cancelled"], "to": "Created",
                                       "event": "OrderCreated" });
    let faults = refused(&config);
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].path, "transitions[1].then");
    assert!(
        faults[0]
            .message
            .contains("transitions[0] and transitions[1]")
            && faults[0].message.contains("distinct event names"),
        "{}",
        faults[0].message
    );
    // The same `then` is fine.
    config["transitions"][1]["then"] = chain()["transitions"][0]["then"].clone();
    let m = machine(&config);
    let _: &StateMachine = &m;
}

#[test]
fn a_chain_of_reactions_stops_at_the_hop_limit() {
    let m = crate::machine(&json!({
      "aggregateType": "ping", "version": 1, "initialState": "Idle", "states": ["Idle"],
      "transitions": [
        { "command": "Ping", "from": ["Idle"], "to": "Idle", "event": "Pinged",
          "then": [ { "command": "Ping" } ] }
      ]
    }));
    let empty = serde_json::Map::new();
    let react = |metadata: &serde_json::Map<String, serde_json::Value>| {
        let event = state_machine::EventView {
            aggregate_type: "ping",
            aggregate_id: "p-1",
            version: 1,
            event_type: "Pinged",
            state: "Idle",
            data: &empty,
            payload: &empty,
            metadata,
            command_id: "c-1",
            config_version: 1,
        };
        m.reactions(&event).remove(0)
    };
    let first = react(&empty).expect("built");
    assert_eq!(first.metadata["hops"], 1, "a command without hops counts 0");
    let mut metadata = first.metadata;
    for hop in 2..=state_machine::MAX_HOPS {
        let next = react(&metadata).expect("built below the limit");
        assert_eq!(next.metadata["hops"], hop);
        metadata = next.metadata;
    }
    let err = react(&metadata).expect_err("past the limit");
    assert!(err.reason.starts_with("hop limit"), "{err}");
    assert!(err.to_string().contains("ping#p-1@1"), "{err}");
}

#[test]
fn a_reaction_built_by_another_config_version_has_an_id_of_its_own() {
    // Issue 20 item 13: a retry after a `then` change must not reuse an id
    // whose first send meant another command.
    let stored = Stored::new(json!({"itemId": "sku-1", "quantity": 2}));
    let recorded_by_1 = machine(&chain());
    let mut changed = chain();
    changed["version"] = json!(2);
    let built_by_2 = machine(&changed);
    let view = stored.view("o-1", "OrderCreated", "Created");
    let ids = |m: &StateMachine| -> Vec<String> {
        m.reactions(&view)
            .into_iter()
            .map(|r| r.expect("built").command_id)
            .collect()
    };
    assert_eq!(ids(&recorded_by_1), ["order#o-1@1/0", "order#o-1@1/1"]);
    assert_eq!(ids(&built_by_2), ["order#o-1@1/v2/0", "order#o-1@1/v2/1"]);
    // Hashed ids differ too.
    let long = "x".repeat(300);
    let long_view = stored.view(&long, "OrderCreated", "Created");
    let one = recorded_by_1
        .reactions(&long_view)
        .remove(0)
        .expect("built");
    let two = built_by_2.reactions(&long_view).remove(0).expect("built");
    assert_ne!(one.command_id, two.command_id);
    assert!(two.command_id.ends_with("@r") && two.command_id.len() < 256);
}

#[test]
fn long_derived_command_ids_are_pinned() {
    // Command ids are idempotency keys of stored data: a hashed one never
    // changes. SHA-256 in hex of the readable id, then `@r` or `@a`.
    let long = format!("order#{}@1", "x".repeat(300));
    assert_eq!(
        state_machine::ids::reaction_command_id(&long, 0, 3, 3),
        "2841a0f13dec2b6c50c73420894b14fc77fc56e00d7c6251c82404259379ab4a@r"
    );
    assert_eq!(
        state_machine::ids::reaction_command_id(&long, 0, 3, 4),
        "1873a9896d2b589df5c36d274703f1260953b2463b8519db822e87156d8f382e@r"
    );
    let alarm = state_machine::Alarm {
        name: "a".to_owned(),
        due: "2030-01-02T03:04:05Z".parse().expect("a time"),
        version: 3,
        command: "PaymentTimedOut".to_owned(),
        payload: Map::new(),
        correlation_id: None,
        hops: 0,
    };
    let fired = state_machine::alarm_command("order", &"x".repeat(300), &alarm);
    assert_eq!(
        fired.command_id,
        "46c54d1050eea79fec6f9887741b619ef1afa57a9dfa5763ddced3a44b0c58da@a"
    );
}
