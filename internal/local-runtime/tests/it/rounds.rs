//! The round bound: a cycle of reactions stops, nothing is dropped, and the
//! next run goes on from the checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use config_dir::DirConfigSource;
use local_runtime::{CHECKPOINT, Notice};
use serde_json::json;

use crate::setup::{World, command};

/// Two types whose `Hit` reacts with a `Hit` on the other: a cycle.
fn ping_pong(dir: &Path) -> PathBuf {
    let configs = dir.join("cycle");
    std::fs::create_dir(&configs).expect("cycle dir");
    for (me, other) in [("ping", "pong"), ("pong", "ping")] {
        let config = json!({
            "aggregateType": me, "version": 1, "initialState": "Idle", "states": ["Idle"],
            "transitions": [{ "command": "Hit", "from": ["Idle"], "to": "Idle", "event": "Hit",
                              "then": [{ "aggregateType": other, "command": "Hit" }] }]
        });
        std::fs::write(configs.join(format!("{me}.json")), config.to_string()).expect("written");
    }
    configs
}

#[tokio::test]
async fn a_cycle_stops_at_the_bound_and_the_next_run_goes_on() {
    let world = World::new();
    let configs = ping_pong(world.dir.path());
    let runtime = |rounds| {
        world
            .runtime_with(Arc::new(DirConfigSource::new(&configs)))
            .with_max_rounds(rounds)
    };
    let first = runtime(5)
        .submit(command("ping", "p-1", "Hit", json!({})))
        .await
        .expect("ran");
    let report = first.reactions;
    assert_eq!(report.rounds, 5, "{report:?}");
    assert!(report.stopped && !report.quiet(), "{report:?}");
    assert!(report.finished(), "nothing failed: {report:?}");
    assert_eq!(report.notices, vec![Notice::Stopped { max_rounds: 5 }]);
    assert!(report.summary().ends_with(", stopped"), "{report}");
    // ping 1, then pong, ping, pong, ping, pong: one event a round.
    assert_eq!(world.state("ping", "p-1").await.version, 3);
    assert_eq!(world.state("pong", "p-1").await.version, 3);

    let more = runtime(2).run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!((more.rounds, more.stopped), (2, true), "{more:?}");
    assert_eq!(world.state("ping", "p-1").await.version, 4);
    assert_eq!(world.state("pong", "p-1").await.version, 4);
}
