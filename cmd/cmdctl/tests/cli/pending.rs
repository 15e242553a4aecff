//! A reaction that fails transiently is kept, not lost (the local run's
//! pending reactions): the user story of a broken config file between a
//! command and its reactions.

use std::path::Path;

use serde_json::json;

use crate::harness::*;

/// A copy of `config/` in the test's directory, to break and restore.
fn copy_config(cli: &Cli) -> std::path::PathBuf {
    let dir = cli.dir.path().join("config");
    std::fs::create_dir_all(&dir).expect("config dir");
    for entry in std::fs::read_dir(config_dir()).expect("config/") {
        let entry = entry.expect("an entry");
        std::fs::copy(entry.path(), dir.join(entry.file_name())).expect("copied");
    }
    dir
}

fn run_in(cli: &Cli, config: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--config-dir", config.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    cli.run(&all)
}

fn state_of(cli: &Cli, config: &Path, aggregate_type: &str, id: &str) -> serde_json::Value {
    run_in(cli, config, &["state", aggregate_type, id, "--json"])
        .ok()
        .json()
}

#[test]
fn a_reaction_refused_by_a_broken_config_runs_once_it_is_restored() {
    let cli = Cli::new();
    let config = copy_config(&cli);
    let payload = json!({ "quantity": 10, "price": 4 }).to_string();
    run_in(
        &cli,
        &config,
        &[
            "exec",
            "inventory",
            "beans",
            "Restock",
            "--payload",
            &payload,
        ],
    )
    .ok();

    // Break inventory.json: the order's Reserve fails transiently.
    let inventory = config.join("inventory.json");
    let good = std::fs::read_to_string(&inventory).expect("inventory.json");
    std::fs::write(&inventory, "{\"broken").expect("broken");
    let order = json!({ "itemId": "beans", "quantity": 2 }).to_string();
    let exec = run_in(
        &cli,
        &config,
        &["exec", "order", "o-1", "CreateOrder", "--payload", &order],
    );
    assert_eq!(
        exec.code, 1,
        "a reaction left pending is work not done:\n{}",
        exec.stdout
    );
    assert!(
        exec.stderr
            .contains("reaction order#o-1@1/0 (inventory#beans Reserve) failed transiently"),
        "the reaction is named on stderr:\n{}",
        exec.stderr
    );
    assert!(
        exec.stdout.contains("1 left for the next run"),
        "{}",
        exec.stdout
    );
    assert_eq!(state_of(&cli, &config, "order", "o-1")["state"], "Created");

    // Still broken: `run` tries it again, keeps it, and exits 1 again.
    let again = run_in(&cli, &config, &["run", "--json"]);
    assert_eq!(again.code, 1, "{}", again.stdout);
    assert_eq!(again.json()["pending"], 1, "{}", again.stdout);

    // Restored: the next run sends the kept reaction, and the saga ends.
    std::fs::write(&inventory, good).expect("restored");
    let run = run_in(&cli, &config, &["run", "--json"]).ok();
    let doc = run.json();
    assert_eq!(doc["pending"], 0, "{doc}");
    assert_eq!(doc["failed"], 0, "{doc}");
    assert_eq!(doc["applied"], 5, "Reserve and the saga after it: {doc}");
    let order = state_of(&cli, &config, "order", "o-1");
    assert_eq!(order["state"], "Confirmed", "{order}");
    let item = state_of(&cli, &config, "inventory", "beans");
    assert_eq!(item["data"]["stock"], 8, "{item}");

    // Nothing is left: a further run has nothing to do.
    let quiet = run_in(&cli, &config, &["run", "--json"]).ok().json();
    assert_eq!(quiet["commands"], 0, "{quiet}");
}
