//! One JSON log line per record, with no payload values. A test binary of
//! its own: tracing caches whether a log site is enabled process-wide, so a
//! thread-local subscriber only sees every line when no other test runs.

// Shared with the `it` binary, which uses all of it.
#[allow(dead_code)]
#[path = "it/fakes.rs"]
mod fakes;

use event_processor::RecordBody;
use serde_json::{Value, json};
use test_doubles::LogBuffer;

use fakes::{World, order, records, stored};

#[tokio::test]
async fn each_record_logs_one_json_line_without_payload_values() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let world = World::new();
    world
        .bus
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-2@1".into());
    let secret = stored(
        "order",
        "o-1",
        1,
        "OrderCreated",
        "Created",
        json!({"card": "4111-secret"}),
    );
    world
        .processor
        .process(records(vec![
            RecordBody::Event(secret),
            RecordBody::NotAnEvent,
            RecordBody::Event(order("o-2", 1)),
            RecordBody::Event(stored("order", "o-3", 1, "OrderCreated", "Paid", json!({}))),
        ]))
        .await;

    let text = buffer.text();
    assert!(!text.contains("4111-secret"), "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    let fields = |i: usize| lines[i]["fields"].clone();
    assert_eq!(fields(0)["event_id"], "order#o-1@1");
    assert_eq!(fields(0)["aggregate"], "order#o-1");
    assert_eq!(fields(0)["outcome"], "done");
    assert_eq!(
        (
            fields(0)["reactions_sent"].clone(),
            fields(0)["reactions_failed"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(fields(1)["outcome"], "not_an_event");
    assert_eq!(fields(2)["outcome"], "unfinished");
    assert_eq!(lines[2]["level"], "WARN");
    // An event no transition records (the config changed since): done, no reactions, said why.
    assert_eq!(fields(3)["outcome"], "done");
    assert_eq!(fields(3)["reactions_sent"], 0);
    assert!(
        fields(3)["reason"]
            .as_str()
            .unwrap()
            .contains("no transition"),
        "{text}"
    );
}
