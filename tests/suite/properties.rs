//! Property: for random sequences of commands, cut into random batches, the
//! state rebuilt from the stored events equals the state the handler stored
//! and reported after each batch, and versions are gapless.

use std::sync::Arc;

use batch_handler::Handler;
use config_dir::DirConfigSource;
use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, Batch, EventStore, InboundMessage, all_events};
use proptest::prelude::*;
use serde_json::{Value, json};
use store_sqlite::SqliteStore;
use testkit::scenario::config_dir;

fn ticket_command() -> impl Strategy<Value = (String, Value)> {
    prop_oneof![
        Just(("OpenTicket".to_owned(), json!({"title": "t"}))),
        "[a-z]{0,3}".prop_map(|t| ("Comment".to_owned(), json!({"text": t}))),
        "[a-z]{1,3}".prop_map(|a| ("Assign".to_owned(), json!({"assignee": a}))),
        Just(("Resolve".to_owned(), json!({}))),
        Just(("Reopen".to_owned(), json!({"reopened": true}))),
        // Reopen has no payload schema: a null removes the field (merge patch).
        Just(("Reopen".to_owned(), json!({"reopened": null}))),
        Just(("Close".to_owned(), json!({}))),
        Just(("Explode".to_owned(), json!({}))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rebuilt_state_matches_reported_state(
        steps in proptest::collection::vec((0..3usize, ticket_command()), 1..40),
        cuts in proptest::collection::vec(1..6usize, 1..20),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let store = Arc::new(SqliteStore::in_memory().unwrap());
            let configs = DirConfigSource::new(config_dir());
            let handler = Handler::new(store.clone(), configs);
            let machine = handler_core::ConfigSource::state_machine(handler.configs(), "ticket").await.unwrap();

            // The oracle: the state machine applied directly, per aggregate.
            let mut model: Vec<AggregateState> = (0..3).map(|_| machine.initial_state()).collect();
            let messages: Vec<(usize, InboundMessage)> = steps.iter().enumerate().map(|(n, (agg, (cmd, payload)))| {
                (*agg, InboundMessage::new(format!("m{n}"), json!({
                    "aggregateType": "ticket", "aggregateId": format!("t{agg}"),
                    "command": cmd, "payload": payload }).to_string()))
            }).collect();

            let mut rest = &messages[..];
            let mut cut = cuts.iter().cycle();
            while !rest.is_empty() {
                let n = (*cut.next().unwrap()).min(rest.len());
                let (batch, tail) = rest.split_at(n);
                rest = tail;
                let report = handler
                    .handle(Batch::standard(batch.iter().map(|(_, m)| m.clone()).collect()))
                    .await;
                for ((agg, msg), outcome) in batch.iter().zip(&report.outcomes) {
                    let body: Value = serde_json::from_str(&msg.body).unwrap();
                    let payload = body["payload"].as_object().unwrap().clone();
                    let cmd = body["command"].as_str().unwrap();
                    match machine.decide(&model[*agg], cmd, &payload) {
                        Ok(d) => {
                            model[*agg].apply(&d.to_state, &payload);
                            let applied = outcome.result.as_ref().expect("the oracle accepts it");
                            assert_eq!(applied.version, model[*agg].version);
                        }
                        Err(_) => assert!(outcome.result.is_err()),
                    }
                }
                for (agg, want) in model.iter().enumerate() {
                    let key = AggregateKey::new("ticket", format!("t{agg}"));
                    let head = store.load(&key, &[]).await.unwrap().head
                        .unwrap_or_else(|| machine.initial_state());
                    let events = all_events(&*store, &key).await.unwrap();
                    assert!(events.iter().zip(1..).all(|(e, v)| e.version == v), "gapless");
                    let mut rebuilt = machine.initial_state();
                    for e in &events {
                        e.apply_to(&mut rebuilt);
                    }
                    assert_eq!(&rebuilt, want, "rebuilt from events");
                    assert_eq!(&head, want, "stored head");
                }
            }
        });
    }
}
