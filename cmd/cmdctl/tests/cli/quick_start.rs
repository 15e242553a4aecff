//! The README's quick start, run as written: its output block is the real
//! output, every saga the sample starts ends, and on a terminal the answer
//! is not buried under log lines.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

use crate::harness::*;

/// The first ```text block after `## Quick start` in the README.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let section = readme
        .split_once("## Quick start")
        .expect("the README has a quick start")
        .1;
    let block = section
        .split_once("```text\n")
        .expect("the quick start has a text block")
        .1;
    block
        .split_once("```")
        .expect("the block ends")
        .0
        .to_owned()
}

fn sample() -> String {
    fixture("sqs-event-mixed.json")
        .to_str()
        .expect("utf-8 path")
        .to_owned()
}

#[test]
fn the_quick_start_prints_what_the_readme_shows() {
    let cli = Cli::new();
    let run = cli.run(&["process", &sample()]).ok();
    assert_eq!(run.stdout, readme_block());
    // The only failures are the three bad messages the sample was written
    // to show; the reactions refused nothing.
    assert_eq!(
        run.failed_ids(),
        ids(&["msg-bad-transition", "msg-bad-schema", "msg-bad-json"])
    );
    assert!(
        run.stdout.contains(" 0 failed), "),
        "no reaction was refused:\n{}",
        run.stdout
    );
}

#[test]
fn every_saga_the_quick_start_starts_ends() {
    let cli = Cli::new();
    cli.run(&["process", &sample()]).ok();

    // Nothing is left for a later run: no pending reaction, nothing due.
    let quiet = cli.run(&["run", "--json"]).ok().json();
    assert_eq!(
        (&quiet["commands"], &quiet["pending"], &quiet["events"]),
        (&Value::from(0), &Value::from(0), &Value::from(0)),
        "{quiet}"
    );
    // Every order in a final state: the one whose item was never stocked
    // rejected, the one restocked in the batch confirmed (o-mixed-3 was
    // refused at CreateOrder, o-mixed-4 never parsed).
    let list = cli.run(&["list", "order", "--json"]).ok().json();
    let states: BTreeMap<String, String> = list["aggregates"]
        .as_array()
        .expect("aggregates")
        .iter()
        .map(|a| {
            (
                a["aggregateId"].as_str().expect("an id").to_owned(),
                a["state"].as_str().expect("a state").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        BTreeMap::from([
            ("o-mixed-1".to_owned(), "Rejected".to_owned()),
            ("o-mixed-2".to_owned(), "Confirmed".to_owned()),
        ]),
        "{list}"
    );
    let payment = cli.run(&["state", "payment", "o-mixed-2", "--json"]).ok();
    assert_eq!(payment.json()["state"], "Charged", "{}", payment.stdout);
}

/// `cmdctl process SAMPLE` on a terminal (`script` gives it one), with
/// `RUST_LOG` as given; all the terminal showed.
fn on_a_terminal(cli: &Cli, rust_log: Option<&str>) -> String {
    let line = format!(
        "{BIN} --store {} --config-dir {} process {}",
        cli.store().display(),
        config_dir().display(),
        sample()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(cli.dir.path())
        .env_remove("RUST_LOG");
    if let Some(filter) = rust_log {
        cmd.env("RUST_LOG", filter);
    }
    let output = cmd.output().unwrap_or_else(|e| {
        panic!("this test needs `script` (util-linux) to give cmdctl a terminal: {e}")
    });
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn on_a_terminal_the_answer_is_not_buried_under_log_lines() {
    let cli = Cli::new();
    let shown = on_a_terminal(&cli, None);
    let last = shown.lines().rfind(|l| !l.trim().is_empty());
    assert_eq!(
        last.map(str::trim_end),
        readme_block().lines().last(),
        "the answer is the last thing shown:\n{shown}"
    );
    assert!(!shown.contains("\"level\""), "no log line:\n{shown}");
    // The outcome lines say what the warnings would have.
    assert!(shown.contains("rejected [invalid_transition]: "), "{shown}");

    // RUST_LOG asks for them: the JSON warnings are there, one a failure.
    let asked = on_a_terminal(&Cli::new(), Some("warn"));
    let warnings = asked
        .lines()
        .filter(|l| l.contains("\"level\":\"WARN\""))
        .count();
    assert_eq!(warnings, 3, "{asked}");
}
