//! Stream records as Lambda sends them, read; and arbitrary JSON never
//! panics.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

fn event_image(pk: &str, sk: u64) -> Value {
    json!({
        "pk": {"S": pk}, "sk": {"N": sk.to_string()},
        "eventType": {"S": "OrderCreated"}, "state": {"S": "Created"},
        "payload": {"S": "{\"itemId\":\"tea\"}"}, "commandId": {"S": "c-1"},
        "metadata": {"S": "{}"}, "recordedAt": {"S": "2026-01-01T00:00:00Z"},
        "configVersion": {"N": "1"}, "fingerprint": {"S": "f"},
        "data": {"S": "{\"itemId\":\"tea\"}"}
    })
}

fn record(name: &str, sequence: &str, image: Value) -> Value {
    let keys = json!({"pk": image["pk"].clone(), "sk": image["sk"].clone()});
    json!({
        "eventID": format!("e-{sequence}"), "eventName": name, "awsRegion": "us-east-1",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"ApproximateCreationDateTime": 1.7e9, "Keys": keys, "NewImage": image,
                     "SequenceNumber": sequence, "SizeBytes": 300, "StreamViewType": "NEW_IMAGE"}
    })
}

fn read(records: Vec<Value>) -> Vec<SourceRecord> {
    source_records(&json!({ "Records": records })).expect("a stream event")
}

#[test]
fn an_inserted_event_item_is_an_event_with_its_position() {
    let [one] = read(vec![record("INSERT", "111", event_image("order#o-1", 3))])
        .try_into()
        .unwrap();
    assert_eq!(one.position, "111");
    let RecordBody::Event(stored) = one.body else {
        panic!("an event: {one:?}")
    };
    assert_eq!(stored.key.to_string(), "order#o-1");
    assert_eq!(stored.event.version, 3);
    assert_eq!(stored.event.event_type, "OrderCreated");
    assert_eq!(stored.event.payload["itemId"], "tea");
    assert_eq!(stored.data["itemId"], "tea");
    assert_eq!(stored.event_id(), "order#o-1@3");
}

#[test]
fn other_items_and_removals_are_not_events() {
    let failure = json!({"pk": {"S": "#failure#m-1"}, "sk": {"N": "0"},
                         "itemType": {"S": "failure"}, "code": {"S": "x"}});
    let checkpoint = json!({"pk": {"S": "#checkpoint#replay"}, "sk": {"N": "0"}});
    let no_event_type = json!({"pk": {"S": "order#o-1"}, "sk": {"N": "4"}});
    let records = read(vec![
        record("INSERT", "1", failure.clone()),
        record("MODIFY", "2", failure),
        record("INSERT", "3", checkpoint),
        record("REMOVE", "4", event_image("order#o-1", 1)),
        record("INSERT", "5", no_event_type),
    ]);
    for r in &records {
        assert_eq!(r.body, RecordBody::NotAnEvent, "{}", r.position);
    }
}

#[test]
fn a_broken_event_item_is_malformed_with_a_reason_naming_the_attribute_not_its_value() {
    let mut image = event_image("order#o-1", 2);
    image["payload"] = json!({"S": "not json: secret-value"});
    let mut no_key = event_image("order#", 2);
    no_key["state"] = json!({"N": "1"});
    let mut keys_only = record("INSERT", "3", event_image("order#o-2", 1));
    keys_only["dynamodb"]["NewImage"] = Value::Null;
    let records = read(vec![
        record("INSERT", "1", image),
        record("INSERT", "2", no_key),
        keys_only,
    ]);
    let RecordBody::Malformed { key, reason } = &records[0].body else {
        panic!("{:?}", records[0])
    };
    assert_eq!(
        key.as_ref().map(ToString::to_string).as_deref(),
        Some("order#o-1")
    );
    assert_eq!(
        reason,
        "item order#o-1: attribute `payload` is not a JSON object"
    );
    assert!(!reason.contains("secret"));
    let RecordBody::Malformed { key, reason } = &records[1].body else {
        panic!("{:?}", records[1])
    };
    assert_eq!(*key, None);
    assert!(
        reason.contains("`pk`") || reason.contains("`state`"),
        "{reason}"
    );
    let RecordBody::Malformed { key, reason } = &records[2].body else {
        panic!("{:?}", records[2])
    };
    assert_eq!(
        key.as_ref().map(ToString::to_string).as_deref(),
        Some("order#o-2")
    );
    assert!(reason.contains("NEW_IMAGE"), "{reason}");
}

#[test]
fn a_record_lambdas_types_cannot_read_is_malformed_and_keeps_its_position() {
    let records = read(vec![
        json!({"dynamodb": {"SequenceNumber": "9", "SizeBytes": "many"}}),
        json!(17),
        record("INSERT", "10", event_image("order#o-1", 1)),
    ]);
    assert_eq!(records[0].position, "9");
    assert!(matches!(
        records[0].body,
        RecordBody::Malformed { key: None, .. }
    ));
    assert_eq!(records[1].position, "");
    assert!(matches!(records[1].body, RecordBody::Malformed { .. }));
    assert!(matches!(records[2].body, RecordBody::Event(_)));
    assert!(source_records(&json!({"records": []})).is_err());
    assert!(source_records(&json!([1])).is_err());
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-zA-Z#0-9 ]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("S"),
            Just("N"),
            Just("pk"),
            Just("sk"),
            Just("eventType")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Records".to_owned()),
                    Just("dynamodb".to_owned()),
                    Just("NewImage".to_owned()),
                    Just("Keys".to_owned()),
                    Just("eventName".to_owned()),
                    Just("SequenceNumber".to_owned()),
                    Just("S".to_owned()),
                    Just("N".to_owned()),
                    Just("pk".to_owned()),
                    Just("sk".to_owned()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_json_as_a_stream_event_never_panics(event in any_json()) {
        let _ = source_records(&event);
    }

    #[test]
    fn arbitrary_images_in_well_formed_records_never_panic(image in any_json(), name in prop_oneof![Just("INSERT"), Just("MODIFY"), Just("REMOVE"), Just("X")]) {
        let mut r = record(name, "1", event_image("order#o-1", 1));
        r["dynamodb"]["NewImage"] = image;
        let records = read(vec![r]);
        prop_assert_eq!(records.len(), 1);
        prop_assert_eq!(records[0].position.as_str(), "1");
    }

    #[test]
    fn one_attribute_mangled_is_never_an_event_with_wrong_content(name in prop_oneof![
        Just("pk"), Just("sk"), Just("eventType"), Just("state"), Just("payload"), Just("commandId"),
        Just("metadata"), Just("recordedAt"), Just("configVersion"), Just("data")],
        value in any_json()) {
        let mut image = event_image("order#o-1", 2);
        image[name] = value;
        let records = read(vec![record("INSERT", "1", image)]);
        if let RecordBody::Event(stored) = &records[0].body {
            prop_assert!(stored.event.version >= 1);
            prop_assert!(!stored.key.aggregate_type.is_empty());
        }
    }
}
