//! `replay` and `causal_order` over a real embedded store, filled by the
//! local runtime (the handler and its reactions) from the configs of
//! `config/`, without the CLI.

use std::sync::Arc;

use handler_core::{AggregateKey, Batch, Correlations, InboundMessage, SystemClock};
use local_runtime::LocalRuntime;
use store_sqlite::SqliteStore;

fn configs() -> Arc<config_dir::DirConfigSource> {
    Arc::new(config_dir::DirConfigSource::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config"
    )))
}

async fn one_saga() -> (Arc<SqliteStore>, Arc<config_dir::DirConfigSource>) {
    let store = Arc::new(SqliteStore::in_memory().expect("an in-memory store"));
    let configs = configs();
    let runtime = LocalRuntime::new(store.clone(), configs.clone(), Arc::new(SystemClock));
    let body = r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder",
                  "commandId":"create-o-1","payload":{"itemId":"beans","quantity":1}}"#;
    let done = runtime
        .submit(Batch::standard(vec![InboundMessage::new("m-1", body)]))
        .await
        .expect("the runtime runs");
    assert!(
        done.batch.outcomes[0].result.is_ok(),
        "the order is created"
    );
    assert_eq!(done.reactions.failed, 0, "every reaction applies");
    (store, configs)
}

#[tokio::test]
async fn a_stored_aggregate_replays_consistent_and_reports_each_page() {
    let (store, configs) = one_saga().await;
    let machine = handler_core::ConfigSource::state_machine(configs.as_ref(), "order")
        .await
        .expect("the order config");
    let key = AggregateKey::new("order", "o-1");
    let mut calls = Vec::new();
    let replay = history::replay(&store, &key, machine.initial_state(), |read, total| {
        calls.push((read, total));
    })
    .await
    .expect("the store reads");
    assert!(replay.is_consistent(), "{:?}", replay.differences);
    let head = replay.head.clone().expect("a head");
    assert_eq!(replay.replayed, head);
    assert_eq!(replay.events as u64, head.version);
    assert!(replay.events >= 2, "created, then rejected by the saga");
    assert_eq!(
        calls,
        [(0, Some(head.version)), (head.version, Some(head.version))],
        "once for the head, once for the one page"
    );
    let nothing = history::replay(
        &store,
        &AggregateKey::new("order", "o-none"),
        machine.initial_state(),
        |_, _| {},
    )
    .await
    .expect("the store reads");
    assert!(nothing.is_empty(), "no head and no events");
}

#[tokio::test]
async fn a_correlation_is_ordered_cause_first() {
    let (store, _) = one_saga().await;
    let events = store
        .correlated("create-o-1", 100)
        .await
        .expect("the store reads");
    assert!(events.len() >= 3, "the order and the inventory's answer");
    let ordered = history::causal_order(events.clone());
    assert_eq!(ordered.len(), events.len(), "each event once");
    for (i, e) in ordered.iter().enumerate() {
        if let Some(cause) = e.event.metadata.get("causationId").and_then(|c| c.as_str())
            && let Some(at) = ordered.iter().position(|c| c.event_id() == cause)
        {
            assert!(at < i, "{} comes after its cause {cause}", e.event_id());
        }
    }
}
