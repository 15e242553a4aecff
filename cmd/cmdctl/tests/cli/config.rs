//! `config validate` locally, and `config upload` / `config diff` against moto.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::harness::*;

#[test]
fn config_validate_accepts_the_repository_configs() {
    let cli = Cli::new();
    let run = cli.run(&["config", "validate"]).ok();
    let lines = run.lines();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(
        lines[0].starts_with("ok  ")
            && lines[0].ends_with("inventory.json (inventory v1, 1 states, 5 transitions)")
    );
    assert!(
        lines[1].starts_with("ok  ")
            && lines[1].ends_with("order.json (order v1, 10 states, 11 transitions)")
    );
    assert!(
        lines[2].starts_with("ok  ")
            && lines[2].ends_with("payment.json (payment v1, 7 states, 10 transitions)")
    );
    assert!(lines[3].starts_with("ok  ") && lines[3].contains("ticket.json (ticket v1"));
    let doc = cli.run(&["config", "validate", "--json"]).ok().json();
    assert_eq!(doc["valid"], true);
}

#[test]
fn config_validate_lists_every_fault_and_exits_2() {
    let cli = Cli::new();
    let dir = cli.dir.path().join("configs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(config_dir().join("order.json"), dir.join("order.json")).unwrap();
    std::fs::write(
        dir.join("broken.json"),
        r#"{
  "aggregateType": "broken",
  "version": 1,
  "initialState": "Nowhere",
  "states": ["A", "B", "A"],
  "transitions": [
    { "command": "Go", "from": ["A"], "to": "C", "event": "Went" },
    { "command": "Go", "from": ["A"], "to": "B", "event": "WentAgain" },
    { "command": "", "from": ["B"], "to": "A", "event": "Back",
      "payloadSchema": { "type": "no-such-type" } }
  ]
}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("misnamed.json"),
        std::fs::read_to_string(config_dir().join("ticket.json")).unwrap(),
    )
    .unwrap();

    let run = cli.run(&["--config-dir", dir.to_str().unwrap(), "config", "validate"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("invalid ") && out.contains("broken.json"),
        "{out}"
    );
    for fault in [
        "states[2]: duplicate state `A`",
        "initialState: state `Nowhere` is not declared",
        "transitions[0].to: state `C` is not declared",
        "transitions[1].from[0]: transitions[0] and transitions[1] both handle command `Go`",
        "transitions[2].command: must not be empty",
        "transitions[2].payloadSchema: does not compile",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("    ") && l.contains(fault)),
            "missing {fault:?} in:\n{out}"
        );
    }
    assert!(
        out.lines()
            .any(|l| l.starts_with("invalid ") && l.ends_with("misnamed.json")),
        "{out}"
    );
    assert!(out.contains("aggregateType: declares `ticket`"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok  ") && l.contains("order.json")),
        "{out}"
    );

    // Paths given explicitly; JSON form.
    let broken = dir.join("broken.json");
    let run = cli.run(&["config", "validate", broken.to_str().unwrap(), "--json"]);
    assert_eq!(run.code, 2);
    let doc = run.json();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["files"][0]["faults"].as_array().unwrap().len(), 6);
}

#[test]
fn aws_config_upload_uploads_nothing_unless_every_file_is_valid() {
    let cli = AwsCli::new();
    cli.setup("cli-up", &[]);
    let bad = cli.dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"aggregateType":"bad","version":1,"initialState":"X","states":[],"transitions":[]}"#,
    )
    .unwrap();
    let run = cli.run(&[
        "config",
        "upload",
        "--prefix",
        "staging/",
        "config/order.json",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("invalid ") && run.stdout.contains("bad.json"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("nothing uploaded"), "{}", run.stderr);

    // Nothing went to staging/, not even the valid file.
    let run = cli.run(&[
        "--config",
        &format!("s3://{}/staging/", cli.bucket),
        "config",
        "validate",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no *.json config in s3://"),
        "{}",
        run.stderr
    );

    // A bad command is refused before it is queued.
    let run = cli.run(&[
        "send",
        "order",
        "a#b",
        "CreateOrder",
        "--queue-url",
        "http://127.0.0.1:1/q",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("would be refused"), "{}", run.stderr);
}

/// `config upload` compares with the deployed object: a file with a lower
/// `version` than the deployed config of its type is refused (exit 2,
/// nothing uploaded, not even the other files) unless `--force`.
#[test]
fn aws_config_upload_refuses_an_older_version_unless_forced() {
    let cli = AwsCli::new();
    cli.setup("cli-older", &[]);
    let v2_dir = cli.dir.path().join("v2");
    std::fs::create_dir(&v2_dir).unwrap();
    let v1 = std::fs::read_to_string(cli.dir.path().join("config/order.json")).unwrap();
    assert!(
        v1.contains(r#""version": 1,"#),
        "config/order.json changed shape"
    );
    let v2 = v2_dir.join("order.json");
    std::fs::write(&v2, v1.replacen(r#""version": 1,"#, r#""version": 2,"#, 1)).unwrap();
    let deployed = || {
        let doc = cli.run(&["config", "validate", "--json"]).ok().json();
        let files = doc["files"].as_array().expect("files").clone();
        files
            .iter()
            .map(|f| {
                (
                    f["aggregateType"].as_str().unwrap().to_owned(),
                    f["version"].as_u64().unwrap(),
                )
            })
            .collect::<BTreeMap<_, _>>()
    };

    // The order's reactions need the inventory and the payment deployed
    // with it (the configs are checked as a set).
    let with_its_reactions = |order: &std::path::Path| {
        let config = cli.dir.path().join("config");
        let mut args = vec!["config".to_owned(), "upload".to_owned()];
        args.push(order.to_str().unwrap().to_owned());
        for name in ["inventory.json", "payment.json"] {
            args.push(config.join(name).to_str().unwrap().to_owned());
        }
        cli.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .ok();
    };
    let deployed_with = |order: u64, ticket: Option<u64>| {
        let mut types = BTreeMap::from([
            ("inventory".to_owned(), 1),
            ("order".to_owned(), order),
            ("payment".to_owned(), 1),
        ]);
        types.extend(ticket.map(|v| ("ticket".to_owned(), v)));
        types
    };
    with_its_reactions(&v2);
    let run = cli.run(&["config", "upload"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("config/order.json is version 1, older than version 2 deployed at s3://")
            && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // Nothing was uploaded, not even ticket.json.
    assert_eq!(deployed(), deployed_with(2, None));

    // The same version again is no downgrade; --force goes back.
    with_its_reactions(&v2);
    let run = cli.run(&["config", "upload", "--force"]).ok();
    assert!(run.stdout.contains("(order v1)"), "{}", run.stdout);
    assert_eq!(deployed(), deployed_with(1, Some(1)));
}

#[test]
fn aws_config_diff_shows_what_an_upload_would_change() {
    let cli = AwsCli::new();
    cli.setup("cli-cd", &[]);
    cli.run(&["config", "upload"]).ok();
    let run = cli.run(&["config", "diff", "--exit-code"]).ok();
    assert_eq!(run.lines().len(), 4, "{}", run.stdout);
    assert!(
        run.lines().iter().all(|l| l.ends_with("unchanged (v1)")),
        "{}",
        run.stdout
    );

    let mut order: Value =
        serde_json::from_slice(&std::fs::read(config_dir().join("order.json")).unwrap()).unwrap();
    order["version"] = 2.into();
    order["states"]
        .as_array_mut()
        .unwrap()
        .push("Shipped".into());
    order["transitions"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "command": "Ship", "from": ["Confirmed"], "to": "Shipped", "event": "OrderShipped"
        }));
    let changed = cli.dir.path().join("next");
    std::fs::create_dir(&changed).unwrap();
    std::fs::write(changed.join("order.json"), order.to_string()).unwrap();
    let mut invoice = order.clone();
    invoice["aggregateType"] = "invoice".into();
    std::fs::write(changed.join("invoice.json"), invoice.to_string()).unwrap();

    let run = cli.run(&[
        "--config",
        changed.to_str().unwrap(),
        "config",
        "diff",
        "--exit-code",
    ]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for needle in [
        "order.json: changed, v1 -> v2",
        "  + state Shipped",
        "  + Ship from Confirmed -> Shipped (OrderShipped)",
        "invoice.json: new (v2, nothing deployed)",
    ] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let doc = cli
        .run(&[
            "--config",
            changed.to_str().unwrap(),
            "config",
            "diff",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(doc["changed"], true);
    let statuses: Vec<&str> = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["new", "changed"], "{doc}");

    std::fs::write(changed.join("bad.json"), "{").unwrap();
    let run = cli.run(&["config", "diff", changed.join("bad.json").to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stdout);
}

#[test]
fn config_validate_checks_a_directory_as_a_set() {
    let cli = Cli::new();
    let dir = cli.dir.path().join("set");
    std::fs::create_dir(&dir).unwrap();
    let ping = r#"{ "aggregateType": "ping", "version": 1, "initialState": "Idle", "states": ["Idle"],
      "transitions": [ { "command": "Ping", "from": ["Idle"], "to": "Idle", "event": "Pinged",
        "then": [ { "aggregateType": "pong", "command": "Pong" } ] } ] }"#;
    let pong = r#"{ "aggregateType": "pong", "version": 1, "initialState": "Idle", "states": ["Idle"],
      "transitions": [ { "command": "Pong", "from": ["Idle"], "to": "Idle", "event": "Ponged",
        "then": [ { "aggregateType": "ping", "command": "Ping" } ] } ] }"#;
    std::fs::write(dir.join("ping.json"), ping).unwrap();
    let validate =
        |cli: &Cli| cli.run(&["--config-dir", dir.to_str().unwrap(), "config", "validate"]);

    let run = validate(&cli);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "transitions[0].then[0].aggregateType: transitions[0] (`Ping` -> `Pinged`) reacts with a command to type `pong`, which has no config"
        ),
        "{}",
        run.stdout
    );

    std::fs::write(dir.join("pong.json"), pong).unwrap();
    let run = validate(&cli);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("a cycle of reactions that can never end: ping.transitions[0] (`Ping` -> `Pinged`) -> pong.transitions[0] (`Pong` -> `Ponged`) -> ping.transitions[0]"),
        "{}",
        run.stdout
    );

    // Named one by one, each file is valid on its own.
    let one = dir.join("ping.json");
    cli.run(&["config", "validate", one.to_str().unwrap()]).ok();
}
