//! The local publisher: each published event as one JSON line, and the
//! collector a replay drops its reactions into.

use event_processor::{CommandSink, DerivedCommand};
use local_runtime::CHECKPOINT;
use local_runtime::publisher::Collect;
use serde_json::{Value, json};

use test_doubles::LogBuffer;

use crate::setup::{World, command};

#[tokio::test]
async fn the_run_writes_each_published_event_as_one_json_line() {
    let world = World::new();
    let out = LogBuffer::default();
    let runtime = world.runtime().with_events(Box::new(out.clone()));
    runtime
        .handle(command(
            "inventory",
            "beans",
            "Restock",
            json!({ "quantity": 10, "price": 4 }),
        ))
        .await;
    runtime
        .handle(command(
            "order",
            "o-1",
            "CreateOrder",
            json!({ "itemId": "beans", "quantity": 2 }),
        ))
        .await;
    let report = runtime.run_until_quiet(CHECKPOINT).await.expect("ran");
    let text = out.text();
    let ids: Vec<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).expect("a JSON line")["eventId"]
                .as_str()
                .expect("an event id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), report.published, "{text}");
    assert!(report.published > 0 && report.published < report.events);
    assert!(ids.contains(&"order#o-1@1".to_owned()), "{ids:?}");
}

#[tokio::test]
async fn collect_keeps_the_commands_until_taken() {
    let built = DerivedCommand {
        command_id: "order#o-1@1/0".to_owned(),
        aggregate_type: "inventory".to_owned(),
        aggregate_id: "beans".to_owned(),
        command: "Reserve".to_owned(),
        payload: serde_json::Map::new(),
        metadata: serde_json::Map::new(),
    };
    let collect = Collect::new();
    let sent = collect.send(std::slice::from_ref(&built)).await;
    assert_eq!(sent, vec![Ok(())]);
    let taken = collect.take();
    assert_eq!(taken, vec![built]);
    assert!(collect.take().is_empty(), "take empties it");
}
