//! Issue 20 item 1: a command whose event could never be published (its
//! bus entry over 256 KiB) is refused as `too_large` before anything is
//! written, for types that publish; a type that does not publish stores it.

// The benches' shared fixtures (configs in memory).
#[path = "../benches/common/mod.rs"]
mod common;

use std::sync::Arc;

use batch_handler::Handler;
use handler_core::config_source::compile;
use handler_core::publication::{PUBLICATION_LIMIT_BYTES, entry_bytes};
use handler_core::{AggregateKey, Batch, EventStore, InboundMessage};
use serde_json::json;
use store_sqlite::SqliteStore;

use test_doubles::MemoryConfigs;

fn note(publish: bool) -> String {
    format!(
        r#"{{
  "aggregateType": "note", "version": 1, "initialState": "New", "publish": {publish},
  "states": ["New", "Written"],
  "transitions": [
    {{ "command": "Write", "from": ["New", "Written"], "to": "Written", "event": "Written" }}
  ]
}}"#
    )
}

fn handler(publish: bool) -> Handler<SqliteStore, MemoryConfigs> {
    let machine = compile("note.json", note(publish).as_bytes(), Some("note")).expect("config");
    Handler::new(
        SqliteStore::in_memory().expect("store"),
        MemoryConfigs::one(Arc::new(machine)),
    )
}

/// A `Write` whose body is as large as the handler takes (256 KiB; most of
/// it metadata, which the event keeps but the aggregate's state does not,
/// so the event fits a store item), and a small one after it.
fn bodies() -> Vec<InboundMessage> {
    let with = |note: &str| {
        json!({"aggregateType": "note", "aggregateId": "n-1", "command": "Write",
            "commandId": "big", "payload": {"text": "hi"}, "metadata": {"note": note}})
        .to_string()
    };
    let big = with(&"x".repeat(256 * 1024 - with("").len()));
    assert_eq!(big.len(), 256 * 1024);
    let small = json!({"aggregateType": "note", "aggregateId": "n-1", "command": "Write",
        "commandId": "small", "payload": {"text": "hi"}})
    .to_string();
    vec![
        InboundMessage::new("m-big", big),
        InboundMessage::new("m-small", small),
    ]
}

#[tokio::test]
async fn a_command_whose_publication_could_never_fit_is_refused_as_too_large() {
    let h = handler(true);
    let report = h.handle(Batch::standard(bodies())).await;
    let big = report.outcomes[0].result.as_ref().expect_err("refused");
    assert_eq!(big.code(), "too_large");
    assert!(big.is_permanent(), "{big}");
    let reason = big.to_string();
    assert!(
        reason.contains("publication") && reason.contains(&PUBLICATION_LIMIT_BYTES.to_string()),
        "{reason}"
    );
    assert!(!reason.contains("xxxx"), "no payload value in the reason");
    // The rest of the batch goes on: the small one applies as version 1.
    let small = report.outcomes[1].result.as_ref().expect("applied");
    assert_eq!(small.version, 1);
    let key = AggregateKey::new("note", "n-1");
    let events = h.store().events(&key, 0, 10).await.expect("events");
    assert_eq!(events.len(), 1);
    assert!(entry_bytes(&key, &events[0]) <= PUBLICATION_LIMIT_BYTES);
}

#[tokio::test]
async fn a_type_that_does_not_publish_stores_the_same_command() {
    let h = handler(false);
    let report = h.handle(Batch::standard(bodies())).await;
    assert_eq!(
        report.outcomes[0].result.as_ref().expect("applied").version,
        1
    );
    assert_eq!(
        report.outcomes[1].result.as_ref().expect("applied").version,
        2
    );
    let key = AggregateKey::new("note", "n-1");
    let events = h.store().events(&key, 0, 10).await.expect("events");
    // Its entry would be over the bus's limit: only publishing types refuse it.
    assert!(entry_bytes(&key, &events[0]) > PUBLICATION_LIMIT_BYTES);
}
