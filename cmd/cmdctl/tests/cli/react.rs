//! The embedded event processor on a local store: the order -> inventory ->
//! order chain of `config/` (an item never restocked: the order is
//! rejected; the whole saga is `saga.rs`), `--no-react` and `run`, a
//! bounded cycle, the replay (`events --type`) resuming from its
//! checkpoint, and `trace`.

use std::path::Path;

use serde_json::Value;

use crate::harness::*;

fn create(cli: &Cli, id: &str, extra: &[&str]) -> Run {
    let command_id = format!("create-{id}");
    let mut args = vec![
        "exec",
        "order",
        id,
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":2}"#,
        "--command-id",
        &command_id,
    ];
    args.extend_from_slice(extra);
    cli.run(&args).ok()
}

/// `events --type order --jsonl OUT` with `extra`.
fn replay<'a>(out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["events", "--type", "order", "--jsonl", out];
    args.extend_from_slice(extra);
    args
}

/// `events --type order --jsonl OUT` stopped after 2 events (a page of
/// one at a time, checkpoint `rebuild`), then resumed with `--from rebuild`:
/// 2 events, then the third only.
fn replay_interrupted_then_resumed(run: &dyn Fn(&[&str]) -> Run, out: &Path) {
    let out = out.to_str().unwrap();
    let stopped = [
        "--checkpoint",
        "rebuild",
        "--limit",
        "2",
        "--page-size",
        "1",
    ];
    let first = run(&replay(out, &stopped)).ok();
    assert!(first.stderr.contains("2 events read"), "{}", first.stderr);
    let second = run(&replay(out, &["--from", "rebuild", "--json"])).ok();
    assert_eq!(second.json()["events"], 1);
}

fn lines_of(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn one_command_causes_the_next_with_no_aws() {
    let cli = Cli::new();
    let published = cli.dir.path().join("published.jsonl");
    let run = create(&cli, "o-1", &["--events", published.to_str().unwrap()]);
    assert!(
        run.stdout.contains(
            "reactions: 2 rounds, 3 events read, 2 published, 2 commands \
             (2 applied, 0 duplicate, 0 failed), 0 not built"
        ),
        "{}",
        run.stdout
    );

    // The reaction reached the inventory, with its deterministic id and the
    // correlation of the order's command; beans were never restocked, so
    // the reservation found a shortage, whose reaction rejected the order.
    let events = cli.events("inventory", "beans");
    assert_eq!(events.len(), 1, "{events:?}");
    let reserved = &events[0];
    assert_eq!(reserved["eventType"], "StockShortage");
    assert_eq!(reserved["commandId"], "order#o-1@1/0");
    assert_eq!(reserved["payload"]["orderId"], "o-1");
    assert_eq!(reserved["payload"]["quantity"], 2);
    assert_eq!(reserved["metadata"]["correlationId"], "create-o-1");
    assert_eq!(reserved["metadata"]["causationId"], "order#o-1@1");

    // Only the order publishes (`"publish": true`); the line is the detail.
    let lines = lines_of(&published);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["eventId"], "order#o-1@1");
    assert_eq!(lines[0]["eventType"], "OrderCreated");
    assert_eq!(lines[1]["eventType"], "OrderRejected");
    assert_eq!(lines[1]["commandId"], "inventory#beans@1/0");

    // Nothing is left: a run finds no new event, and the same command again
    // is a duplicate that causes nothing.
    let quiet = cli.run(&["run", "--json"]).ok().json();
    assert_eq!(quiet["events"], 0);
    assert_eq!(quiet["rounds"], 0);
    let again = create(&cli, "o-1", &["--json"]).json();
    assert_eq!(again["outcome"]["outcome"], "duplicate");
    assert_eq!(again["reactions"]["events"], 0);
    assert_eq!(cli.events("inventory", "beans").len(), 1);
}

#[test]
fn no_react_leaves_the_events_for_run() {
    let cli = Cli::new();
    let run = create(&cli, "o-2", &["--no-react"]);
    assert!(!run.stdout.contains("reactions:"), "{}", run.stdout);
    let missing = cli.run(&["state", "inventory", "beans"]);
    assert_eq!(missing.code, 1, "no reaction ran yet");

    let run = cli.run(&["run", "--events", "-"]).ok();
    let lines = run.lines();
    let published: Value = serde_json::from_str(lines[0]).expect("the published event first");
    assert_eq!(published["eventId"], "order#o-2@1");
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[2].starts_with("reactions: 2 rounds, 3 events read, 2 published, 2 commands"),
        "{}",
        run.stdout
    );
    assert_eq!(cli.events("inventory", "beans").len(), 1);
    // Until quiet: a second run has nothing to do.
    let again = cli.run(&["run"]).ok();
    assert!(
        again
            .stdout
            .starts_with("reactions: 0 rounds, 0 events read"),
        "{}",
        again.stdout
    );
}

/// The fixture drives its orders by hand, to the end, before the saga's
/// reactions run: the reservations find no stock, and the rejections and
/// the next steps they would cause find the orders already further on, so
/// they are refused (and named on stderr).
#[test]
fn process_runs_the_reactions_before_the_answer() {
    let cli = Cli::new();
    let path = fixture("sqs-event-success.json");
    let run = cli.run(&["process", path.to_str().unwrap()]).ok();
    let lines = run.lines();
    assert_eq!(lines.len(), 10, "{}", run.stdout);
    let counts = lines[lines.len() - 2];
    assert_eq!(
        counts,
        "reactions: 2 rounds, 10 events read, 6 published, 6 commands \
         (2 applied, 0 duplicate, 4 failed), 0 not built",
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains(
            "reaction inventory#coffee-beans@1/0 (order#o-success-1 RejectOrder): \
             rejected [invalid_transition]"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.failed_ids().is_empty(),
        "the answer is still the last line"
    );
    let doc = cli
        .run(&[
            "process",
            "--json",
            "--no-react",
            fixture("sqs-event-success.json").to_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(doc["reactions"], Value::Null);
}

/// Two types whose `Hit` reacts with a `Hit` on the other: a cycle.
fn ping_pong(dir: &Path) -> std::path::PathBuf {
    let configs = dir.join("cycle");
    std::fs::create_dir(&configs).unwrap();
    for (me, other) in [("ping", "pong"), ("pong", "ping")] {
        std::fs::write(
            configs.join(format!("{me}.json")),
            format!(
                r#"{{ "aggregateType": "{me}", "version": 1, "initialState": "Idle",
                     "states": ["Idle"],
                     "transitions": [ {{ "command": "Hit", "from": ["Idle"], "to": "Idle",
                        "event": "Hit", "then": [ {{ "aggregateType": "{other}",
                        "command": "Hit" }} ] }} ] }}"#
            ),
        )
        .unwrap();
    }
    configs
}

#[test]
fn a_cycle_of_reactions_stops_after_max_rounds() {
    let cli = Cli::new();
    let configs = ping_pong(cli.dir.path());
    let configs = configs.to_str().unwrap();
    let run = cli
        .run(&[
            "--config-dir",
            configs,
            "exec",
            "ping",
            "p-1",
            "Hit",
            "--max-rounds",
            "5",
        ])
        .ok();
    assert!(run.stdout.contains("reactions: 5 rounds"), "{}", run.stdout);
    assert!(run.stdout.contains(", stopped"), "{}", run.stdout);
    assert!(
        run.stderr.contains("reactions stopped after 5 rounds"),
        "{}",
        run.stderr
    );
    let count = |kind: &str| {
        cli.run(&["--config-dir", configs, "events", kind, "p-1", "--json"])
            .ok()
            .json()
            .as_array()
            .map_or(0, Vec::len)
    };
    // ping 1, then pong, ping, pong, ping, pong: one event per round.
    assert_eq!((count("ping"), count("pong")), (3, 3));

    // `run` goes on from there, bounded too: exit 1.
    let more = cli.run(&["--config-dir", configs, "run", "--max-rounds", "2"]);
    assert_eq!(more.code, 1, "{}\n{}", more.stdout, more.stderr);
    assert!(
        more.stdout.contains("reactions: 2 rounds"),
        "{}",
        more.stdout
    );
    assert_eq!((count("ping"), count("pong")), (4, 4));
}

#[test]
fn events_replay_resumes_from_its_checkpoint() {
    let cli = Cli::new();
    // Three events of type order: their reactions are left out.
    for id in ["o-1", "o-2", "o-3"] {
        create(&cli, id, &["--no-react"]);
    }
    let out = cli.dir.path().join("orders.jsonl");
    replay_interrupted_then_resumed(&|args| cli.run(args), &out);
    let ids: Vec<String> = lines_of(&out)
        .iter()
        .map(|l| l["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["order#o-1@1", "order#o-2@1", "order#o-3@1"]);
    // Done: resuming again reads nothing.
    let third = cli
        .run(&["events", "--type", "order", "--from", "rebuild", "--json"])
        .ok();
    assert_eq!(third.json()["events"], 0);

    // --since filters; an unknown checkpoint is invalid input.
    let future = cli
        .run(&[
            "events",
            "--type",
            "order",
            "--since",
            "2999-01-01T00:00:00Z",
        ])
        .ok();
    assert!(future.stdout.is_empty(), "{}", future.stdout);
    let unknown = cli.run(&["events", "--type", "order", "--from", "nope"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    let bad_time = cli.run(&["events", "--type", "order", "--since", "yesterday"]);
    assert_eq!(bad_time.code, 2, "{}", bad_time.stderr);

    // --publish: the processor's publication, on stdout (orders publish).
    let published = cli
        .run(&["events", "--type", "inventory", "--publish"])
        .ok();
    assert!(published.stdout.is_empty(), "inventory does not publish");
    let published = cli.run(&["events", "--type", "order", "--publish"]).ok();
    assert_eq!(published.lines().len(), 3, "{}", published.stdout);
}

#[test]
fn trace_lists_a_correlation_across_aggregates_in_order() {
    let cli = Cli::new();
    create(&cli, "o-7", &[]);
    let doc = cli.run(&["trace", "create-o-7", "--json"]).ok().json();
    let events = doc["events"].as_array().expect("events");
    let rows: Vec<(String, String, Value)> = events
        .iter()
        .map(|e| {
            (
                e["eventId"].as_str().unwrap().to_owned(),
                e["commandId"].as_str().unwrap().to_owned(),
                e["causationId"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "order#o-7@1".to_owned(),
                "create-o-7".to_owned(),
                Value::Null
            ),
            (
                "inventory#beans@1".to_owned(),
                "order#o-7@1/0".to_owned(),
                Value::from("order#o-7@1")
            ),
            (
                "order#o-7@2".to_owned(),
                "inventory#beans@1/0".to_owned(),
                Value::from("inventory#beans@1")
            ),
        ]
    );
    // The same flow without a scan: from the root aggregate through the
    // reactions the config builds.
    let walked = cli
        .run(&["trace", "create-o-7", "--root", "order", "o-7", "--json"])
        .ok()
        .json();
    assert_eq!(walked, doc);
    let text = cli.run(&["trace", "create-o-7"]).ok();
    assert_eq!(text.lines().len(), 4, "{}", text.stdout);
    assert!(
        text.lines()[2].contains("inventory#beans"),
        "{}",
        text.stdout
    );

    let none = cli.run(&["trace", "no-such-flow"]);
    assert_eq!(none.code, 1, "{}", none.stderr);
}

/// On DynamoDB (moto): `exec` leaves the reactions to the stream's
/// processor; `events --type` replays through the listing index and resumes
/// from its checkpoint item; `trace` finds the flow by a Scan, or by the
/// walk from its root; `--publish` puts the events on the EventBridge bus.
#[test]
fn on_dynamodb_the_replay_resumes_publishes_and_traces() {
    let cli = AwsCli::new();
    cli.setup("cli-react", &[]);
    cli.run(&["config", "upload"]).ok();
    let inventory = config_dir().join("inventory.json");
    cli.run(&["config", "upload", inventory.to_str().unwrap()])
        .ok();
    let tag = unique_name("o");
    let orders: Vec<String> = (1..=3).map(|n| format!("{tag}-{n}")).collect();
    for id in &orders {
        let doc = cli
            .run(&[
                "exec",
                "order",
                id,
                "CreateOrder",
                "--payload",
                r#"{"itemId":"beans","quantity":2}"#,
                "--command-id",
                &format!("create-{id}"),
                "--json",
            ])
            .ok()
            .json();
        assert_eq!(
            doc["reactions"],
            Value::Null,
            "the stream's processor reacts"
        );
    }
    let want: Vec<String> = orders.iter().map(|id| format!("order#{id}@1")).collect();

    let out = cli.dir.path().join("orders.jsonl");
    replay_interrupted_then_resumed(&|args| cli.run(args), &out);
    let mut ids: Vec<String> = lines_of(&out)
        .iter()
        .map(|l| l["eventId"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, want);

    let sdk = block_on(moto().sdk_config());
    let (bus, queue) = block_on(testkit::bus::bus_to_queue(&sdk, "command-handler.order"));
    let published = cli
        .run(&[
            "events",
            "--type",
            "order",
            "--publish",
            "--event-bus",
            &bus,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(published["published"], 3);
    let mut on_bus: Vec<String> = block_on(testkit::bus::drain(&sdk, &queue))
        .iter()
        .filter(|m| m["source"] == "command-handler.order")
        .filter_map(|m| m["detail"]["eventId"].as_str().map(str::to_owned))
        .filter(|id| want.contains(id))
        .collect();
    on_bus.sort();
    assert_eq!(on_bus, want);

    let root = &orders[1];
    let correlation = format!("create-{root}");
    let trace = cli.run(&["trace", &correlation, "--json"]).ok().json();
    assert_eq!(trace["events"][0]["eventId"], want[1].as_str());
    assert_eq!(trace["events"].as_array().map(Vec::len), Some(1));
    // The reaction, delivered as the stream's processor would (its id is
    // derived from the event), is found by the scan and by the walk.
    cli.run(&[
        "exec",
        "inventory",
        "beans",
        "Reserve",
        "--payload",
        &format!(r#"{{"orderId":"{root}","quantity":2}}"#),
        "--command-id",
        &format!("order#{root}@1/0"),
        "--metadata",
        &format!(r#"{{"correlationId":"{correlation}","causationId":"order#{root}@1"}}"#),
    ])
    .ok();
    let scanned = cli.run(&["trace", &correlation, "--json"]).ok().json();
    let walked = cli
        .run(&["trace", &correlation, "--root", "order", root, "--json"])
        .ok()
        .json();
    assert_eq!(scanned, walked);
    let ids: Vec<&str> = walked["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [want[1].as_str(), "inventory#beans@1"]);
}
