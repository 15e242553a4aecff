//! A reaction that fails transiently is kept in the store, not lost, and
//! delivered by the next run.

use std::path::Path;
use std::sync::Arc;

use config_dir::DirConfigSource;
use local_runtime::{CHECKPOINT, Notice};
use serde_json::json;

use crate::setup::{World, command, config_dir};

/// A copy of `config/` under `dir`, to break and restore.
fn copy_config(dir: &Path) -> std::path::PathBuf {
    let copy = dir.join("config");
    std::fs::create_dir_all(&copy).expect("config dir");
    for entry in std::fs::read_dir(config_dir()).expect("config/") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copied");
    }
    copy
}

#[tokio::test]
async fn a_transient_reaction_failure_is_kept_and_delivered_on_the_next_run() {
    let world = World::new();
    let config = copy_config(world.dir.path());
    let runtime = || world.runtime_with(Arc::new(DirConfigSource::new(&config)));
    runtime()
        .submit(command(
            "inventory",
            "beans",
            "Restock",
            json!({ "quantity": 10, "price": 4 }),
        ))
        .await
        .expect("ran");

    // A broken inventory.json, read by a runtime that never read the good
    // one (a config source serves its last good version when a file
    // breaks): the order's Reserve fails transiently.
    let inventory = config.join("inventory.json");
    let good = std::fs::read_to_string(&inventory).expect("inventory.json");
    std::fs::write(&inventory, "{\"broken").expect("broken");
    let broken = runtime();
    let placed = broken
        .submit(command(
            "order",
            "o-1",
            "CreateOrder",
            json!({ "itemId": "beans", "quantity": 2 }),
        ))
        .await
        .expect("ran");
    let report = placed.reactions;
    assert_eq!(report.pending, 1, "{report:?}");
    assert!(!report.finished() && !report.quiet(), "{report:?}");
    assert!(
        report.notices.contains(&Notice::ReactionKept {
            message_id: "order#o-1@1/0".to_owned(),
            aggregate: "inventory#beans".to_owned(),
            command: "Reserve".to_owned(),
        }),
        "{:?}",
        report.notices
    );
    assert_eq!(world.state("order", "o-1").await.state, "Created");

    // Still broken: the next run tries it again and keeps it.
    let again = broken.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(again.pending, 1, "{again:?}");

    // Restored: the kept reaction is delivered, and the saga ends.
    std::fs::write(&inventory, good).expect("restored");
    let restored = runtime();
    let run = restored.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(run.pending, 0, "{run:?}");
    assert_eq!(run.failed, 0, "{run:?}");
    assert_eq!(run.applied, 5, "Reserve and the saga after it: {run:?}");
    assert!(run.quiet(), "{run:?}");
    assert_eq!(world.state("order", "o-1").await.state, "Confirmed");
    assert_eq!(world.state("inventory", "beans").await.data["stock"], 8);

    let quiet = restored.run_until_quiet(CHECKPOINT).await.expect("ran");
    assert_eq!(quiet.commands, 0, "nothing is left: {quiet:?}");
}
