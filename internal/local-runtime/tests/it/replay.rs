//! `replay::replay_events` over the embedded store: a fresh run writes
//! every event of the type and saves its checkpoint, a limit stops early, a
//! resumed run goes on after the checkpoint, and resuming needs one saved.

use std::sync::Arc;

use config_dir::DirConfigSource;
use handler_core::FeedQuery;
use local_runtime::publisher::JsonLines;
use local_runtime::replay::{ReplayError, ReplayRun, Replaying, replay_events};
use serde_json::{Value, json};

use test_doubles::LogBuffer;

use crate::setup::{World, command, config_dir};

/// The JSON lines a replay wrote.
fn details(lines: &LogBuffer) -> Vec<Value> {
    lines
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn run(checkpoint: &str, resume: bool, limit: Option<usize>) -> ReplayRun {
    ReplayRun {
        checkpoint: checkpoint.to_owned(),
        resume,
        query: FeedQuery {
            aggregate_type: Some("order".to_owned()),
            since: None,
        },
        limit,
        page_size: 1,
    }
}

/// Three orders created (each rejected by the inventory saga: no stock).
async fn three_orders(world: &World) -> usize {
    let runtime = world.runtime();
    for id in ["o-1", "o-2", "o-3"] {
        let done = runtime
            .submit(command(
                "order",
                id,
                "CreateOrder",
                json!({ "itemId": "beans", "quantity": 1 }),
            ))
            .await
            .expect("the runtime runs");
        assert!(done.batch.outcomes[0].result.is_ok(), "{id} created");
    }
    let mut orders = 0;
    for id in ["o-1", "o-2", "o-3"] {
        orders += usize::try_from(world.state("order", id).await.version).expect("small");
    }
    orders
}

#[tokio::test]
async fn a_fresh_run_writes_every_event_of_the_type_then_a_resumed_run_goes_on() {
    let world = World::new();
    let orders = three_orders(&world).await;
    // Stopped after two events, as an interruption would.
    let first = LogBuffer::default();
    let report = replay_events(
        world.store.clone(),
        &run("r", false, Some(2)),
        Replaying::JsonLines(Box::new(first.clone())),
    )
    .await
    .expect("the replay runs");
    assert_eq!((report.events, report.pages, report.published), (2, 2, 0));
    assert_eq!(details(&first).len(), 2);
    assert!(report.checkpoint.is_some(), "saved after each page");
    // Resumed: the rest, each once.
    let rest = LogBuffer::default();
    let report = replay_events(
        world.store.clone(),
        &run("r", true, None),
        Replaying::JsonLines(Box::new(rest.clone())),
    )
    .await
    .expect("the replay runs");
    assert_eq!(report.events, orders - 2);
    assert_eq!(report.stopped_at, None);
    let mut seen: Vec<Value> = details(&first);
    seen.extend(details(&rest));
    assert_eq!(seen.len(), orders, "every order event once");
    assert!(
        seen.iter().all(|d| d["aggregateType"] == "order"),
        "only the type asked for: {seen:?}"
    );
    // A fresh run under the same name starts from the beginning again.
    let again = LogBuffer::default();
    let report = replay_events(
        world.store.clone(),
        &run("r", false, None),
        Replaying::JsonLines(Box::new(again.clone())),
    )
    .await
    .expect("the replay runs");
    assert_eq!(report.events, orders);
    assert_eq!(details(&again), seen);
}

#[tokio::test]
async fn publishing_goes_through_the_configs_and_resuming_needs_a_checkpoint() {
    let world = World::new();
    let orders = three_orders(&world).await;
    let err = replay_events(
        world.store.clone(),
        &run("never-saved", true, None),
        Replaying::JsonLines(Box::new(std::io::sink())),
    )
    .await
    .expect_err("no checkpoint to resume from");
    assert!(
        matches!(&err, ReplayError::NoCheckpoint { name } if name == "never-saved"),
        "{err:?}"
    );
    let report = replay_events(
        world.store.clone(),
        &run("p", false, None),
        Replaying::Publish {
            configs: Arc::new(DirConfigSource::new(config_dir())),
            publisher: Arc::new(JsonLines::new(std::io::sink())),
        },
    )
    .await
    .expect("the replay runs");
    assert_eq!(report.events, orders);
    assert_eq!(report.published, orders, "order.json publishes every event");
    assert_eq!(report.reactions_failed, 0);
}
