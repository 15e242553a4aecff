//! One JSON log line per message: a fired alarm with no effect is logged
//! with outcome `stale` and its reason, at info level (not a failure), and
//! never with a payload value. A test binary of its own: tracing caches
//! whether a log site is enabled process-wide, so a thread-local subscriber
//! only sees every line when no other test runs.

#[path = "../benches/common/mod.rs"]
mod common;

use std::sync::Arc;

use batch_handler::Handler;
use handler_core::config_source::compile;
use handler_core::state_machine::alarm_command;
use handler_core::{AggregateKey, Batch, EventStore, InboundMessage};
use serde_json::{Value, json};
use store_sqlite::SqliteStore;
use test_doubles::LogBuffer;

use test_doubles::MemoryConfigs;

const ORDER: &str = r#"{
  "aggregateType": "order", "version": 1, "initialState": "New",
  "states": ["New", "AwaitingPayment", "Paid", "Cancelled"],
  "transitions": [
    { "command": "Place", "from": ["New"], "to": "AwaitingPayment", "event": "Placed",
      "alarms": { "set": [ { "name": "payment-timeout", "after": "PT15M", "command": "PaymentTimedOut",
                             "payload": { "note": "4111-secret" } } ] } },
    { "command": "Pay", "from": ["AwaitingPayment"], "to": "Paid", "event": "Paid",
      "alarms": { "clear": [ "payment-timeout" ] } },
    { "command": "PaymentTimedOut", "from": ["AwaitingPayment"], "to": "Cancelled", "event": "TimedOut" }
  ]
}"#;

#[tokio::test]
async fn a_stale_alarm_logs_one_info_line_with_its_reason() {
    let machine = compile("order.json", ORDER.as_bytes(), Some("order")).expect("config");
    let h = Handler::new(
        SqliteStore::in_memory().expect("store"),
        MemoryConfigs::one(Arc::new(machine)),
    );
    let send = |id: &str, command: &str| {
        InboundMessage::new(
            id,
            json!({ "aggregateType": "order", "aggregateId": "o-1", "command": command,
                    "payload": { "card": "4111-secret" } })
            .to_string(),
        )
    };
    h.handle(Batch::standard(vec![send("m-1", "Place")])).await;
    let key = AggregateKey::new("order", "o-1");
    let head = h.store().load(&key, &[]).await.unwrap().head.unwrap();
    let fired = alarm_command("order", "o-1", &head.alarms["payment-timeout"]);
    h.handle(Batch::standard(vec![send("m-2", "Pay")])).await;

    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let body = serde_json::to_string(&fired).unwrap();
    let report = h
        .handle(Batch::standard(vec![InboundMessage::new("m-3", body)]))
        .await;
    assert!(report.failed_message_ids().is_empty());

    let text = buffer.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let outcomes: Vec<&Value> = lines
        .iter()
        .filter(|l| l["target"] == "command_handler::outcome")
        .collect();
    assert_eq!(outcomes.len(), 1, "{text}");
    let line = outcomes[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["outcome"], "stale");
    assert_eq!(line["fields"]["version"], 2);
    assert_eq!(line["fields"]["stale_reason"], "the alarm is no longer set");
    assert_eq!(
        line["fields"]["command_id"],
        "order#o-1@1/alarm/payment-timeout"
    );
    assert!(!text.contains("4111"), "{text}");
}
