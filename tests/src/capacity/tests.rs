//! The size and unit rules on small items and requests whose cost is worked
//! out by hand.

use super::*;
use serde_json::json;

fn item(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn layout1_shape() -> TableShape {
    TableShape::from_description(&json!({
        "KeySchema": [
            {"AttributeName": "sk", "KeyType": "RANGE"},
            {"AttributeName": "pk", "KeyType": "HASH"}
        ],
        "GlobalSecondaryIndexes": [{
            "IndexName": "heads-by-type",
            "KeySchema": [
                {"AttributeName": "headType", "KeyType": "HASH"},
                {"AttributeName": "headId", "KeyType": "RANGE"}
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["version"]}
        }]
    }))
}

#[test]
fn sizes_are_names_plus_values() {
    // "pk" 2 + "ticket#t-1" 10, "sk" 2 + 1 digit (1 + 1).
    assert_eq!(
        item_bytes(&item(json!({"pk": {"S": "ticket#t-1"}, "sk": {"N": "1"}}))),
        16
    );
    // "ok" 2 + 1, "none" 4 + 1.
    assert_eq!(
        item_bytes(&item(json!({"ok": {"BOOL": true}, "none": {"NULL": true}}))),
        8
    );
    // "m" 1 + map 3 + ("a" 1 + "xy" 2 + 1 element byte).
    assert_eq!(
        item_bytes(&item(json!({"m": {"M": {"a": {"S": "xy"}}}}))),
        8
    );
    // "l" 1 + list 3 + ("x" 1 + 1 element byte) + ("12": 2 digits, 2, + 1).
    assert_eq!(
        item_bytes(&item(json!({"l": {"L": [{"S": "x"}, {"N": "12"}]}}))),
        9
    );
    // "b" 1 + 3 bytes ("AQID" is [1, 2, 3]); "ss" 2 + 1 + 2.
    assert_eq!(
        item_bytes(&item(
            json!({"b": {"B": "AQID"}, "ss": {"SS": ["a", "bc"]}})
        )),
        9
    );
    // UTF-8 bytes, not chars: "é" is 2.
    assert_eq!(item_bytes(&item(json!({"s": {"S": "é"}}))), 3);
}

#[test]
fn numbers_are_a_byte_per_two_significant_digits_plus_one() {
    assert_eq!(number_bytes("0"), 1);
    assert_eq!(number_bytes("7"), 2);
    assert_eq!(number_bytes("12345"), 4);
    assert_eq!(number_bytes("1000"), 2);
    assert_eq!(number_bytes("-0.00120"), 2);
    assert_eq!(number_bytes("1764501234"), 6);
}

#[test]
fn units_round_up_per_step_and_never_fall_below_the_minimum() {
    assert_eq!(write_units(0), 1);
    assert_eq!(write_units(1024), 1);
    assert_eq!(write_units(1025), 2);
    assert_eq!(read_units(0, true), 1.0);
    assert_eq!(read_units(4096, true), 1.0);
    assert_eq!(read_units(4097, true), 2.0);
    assert_eq!(read_units(0, false), 0.5);
}

#[test]
fn a_transaction_costs_twice_per_kb_and_its_index_entries_doubled() {
    let shape = layout1_shape();
    let big = "x".repeat(1100);
    let request = json!({"TransactItems": [
        // 2 + 3 + 2 + 2 + 4 + 1100 = 1113 bytes: 2 KB, doubled.
        {"Put": {"Item": {"pk": {"S": "a#1"}, "sk": {"N": "1"}, "data": {"S": big}}}},
        // A head with the index keys: 1 KB doubled, and an index entry
        // (headType 8+6, headId 6+1, pk 2+3, sk 2+1, version 7+2, +100)
        // of 1 KB, doubled.
        {"Put": {"Item": {
            "pk": {"S": "a#1"}, "sk": {"N": "0"}, "headType": {"S": "ticket"},
            "headId": {"S": "1"}, "version": {"N": "1"}, "state": {"S": "Open"}
        }}},
        {"ConditionCheck": {"Key": {"pk": {"S": "a#1"}}}}
    ]});
    let units = request_units(&shape, "TransactWriteItems", &request, &json!({}));
    assert_eq!(units.table_wru, 4.0 + 2.0);
    assert_eq!(units.index_wru, 2.0);
    assert_eq!(units.rru, 2.0);
    let head = item(request["TransactItems"][1]["Put"]["Item"].clone());
    assert_eq!(
        shape.index_entries(&head),
        vec![("heads-by-type".to_owned(), 138)]
    );
}

#[test]
fn a_put_costs_once_per_kb_and_a_keys_only_index_entry_its_keys() {
    let shape = TableShape::from_description(&json!({
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "LocalSecondaryIndexes": [{
            "IndexName": "by-command",
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "commandId", "KeyType": "RANGE"}
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"}
        }]
    }));
    // pk 2+3, commandId 9+3, other 5+1: 23 bytes.
    let put = json!({"Item": {
        "pk": {"S": "a#1"}, "commandId": {"S": "c-1"}, "other": {"S": "x"}
    }});
    let units = request_units(&shape, "PutItem", &put, &json!({}));
    assert_eq!(
        (units.table_wru, units.index_wru, units.rru),
        (1.0, 1.0, 0.0)
    );
    let item = item(put["Item"].clone());
    // pk 5 + commandId 12 + 100 overhead.
    assert_eq!(
        shape.index_entries(&item),
        vec![("by-command".to_owned(), 117)]
    );
    // Without the index's key, no entry.
    let plain = json!({"Item": {"pk": {"S": "a#1"}}});
    assert_eq!(
        request_units(&shape, "PutItem", &plain, &json!({})).index_wru,
        0.0
    );
}

#[test]
fn batch_get_rounds_per_item_and_charges_each_miss_the_minimum() {
    let big = "x".repeat(5000);
    let request = json!({"RequestItems": {"t": {
        "ConsistentRead": true,
        "Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "c"}}]
    }}});
    // One item of 5,004 bytes (2 RRU) and two misses (1 each).
    let answer = json!({"Responses": {"t": [{"pk": {"S": "a"}, "d": {"S": big}}]}});
    let units = request_units(&TableShape::default(), "BatchGetItem", &request, &answer);
    assert_eq!(units.rru, 4.0);
}

#[test]
fn a_query_sums_its_items_before_rounding_and_costs_one_when_empty() {
    let three_kb = json!({"d": {"S": "x".repeat(3 * 1024 - 1)}});
    let request = json!({"ConsistentRead": true});
    // Three items of 3 KB: 9 KB summed is 3 RRU.
    let answer = json!({"Items": [three_kb, three_kb, three_kb]});
    let shape = TableShape::default();
    assert_eq!(request_units(&shape, "Query", &request, &answer).rru, 3.0);
    let four = json!({"Items": [three_kb, three_kb, three_kb, three_kb]});
    // 12 KB summed is 3; rounded per item it would be 4.
    assert_eq!(request_units(&shape, "Query", &request, &four).rru, 3.0);
    let empty = json!({"Items": []});
    assert_eq!(request_units(&shape, "Query", &request, &empty).rru, 1.0);
    assert_eq!(request_units(&shape, "Query", &json!({}), &empty).rru, 0.5);
}
