//! `exec`, `state` and `events` on a local store. The orders here are
//! driven by hand, so their reactions (the saga of `config/`, tested in
//! `saga.rs`) are left out with `--no-react`.

use crate::harness::*;

#[test]
fn exec_state_events_round_trip() {
    let cli = Cli::new();
    let run = cli
        .run(&[
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--payload",
            r#"{"itemId":"beans","quantity":2}"#,
            "--metadata",
            r#"{"correlationId":"c-1"}"#,
            "--no-react",
        ])
        .ok();
    assert!(
        run.stdout.starts_with("applied v1: order#o-1 CreateOrder"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("order#o-1 -> Created (v1)"),
        "{}",
        run.stdout
    );

    let run = cli
        .run(&[
            "exec",
            "order",
            "o-1",
            "ReserveItem",
            "--expected-version",
            "1",
            "--command-id",
            "reserve-1",
            "--json",
            "--no-react",
        ])
        .ok();
    let doc = run.json();
    assert_eq!(doc["outcome"]["outcome"], "applied");
    assert_eq!(doc["outcome"]["commandId"], "reserve-1");
    assert_eq!(doc["state"]["state"], "Reserved");
    assert_eq!(doc["state"]["version"], 2);

    // The same command id again: a duplicate, exit 0, nothing written.
    let again = cli
        .run(&[
            "exec",
            "order",
            "o-1",
            "ReserveItem",
            "--command-id",
            "reserve-1",
            "--no-react",
        ])
        .ok();
    assert!(again.stdout.starts_with("duplicate v2"), "{}", again.stdout);

    let state = cli.run(&["state", "order", "o-1"]).ok();
    assert!(
        state.stdout.starts_with("order#o-1 -> Reserved (v2)"),
        "{}",
        state.stdout
    );
    let state = cli.run(&["state", "order", "o-1", "--json"]).ok().json();
    assert_eq!(
        state,
        serde_json::json!({"state": "Reserved", "version": 2, "data": {"itemId": "beans", "quantity": 2}})
    );

    let events = cli.events("order", "o-1");
    assert_eq!(events.len(), 2);
    let first = &events[0];
    for attribute in [
        "version",
        "eventType",
        "state",
        "payload",
        "commandId",
        "metadata",
        "recordedAt",
        "configVersion",
    ] {
        assert!(
            first.get(attribute).is_some(),
            "{attribute} missing: {first}"
        );
    }
    assert_eq!(first["eventType"], "OrderCreated");
    assert_eq!(first["payload"]["quantity"], 2);
    assert_eq!(first["metadata"]["correlationId"], "c-1");
    assert!(first["commandId"].as_str().unwrap().starts_with("cmdctl-"));
    assert_eq!(events[1]["commandId"], "reserve-1");

    let table = cli.run(&["events", "order", "o-1"]).ok();
    let lines = table.lines();
    assert_eq!(lines.len(), 3, "{}", table.stdout);
    assert!(lines[0].starts_with("version"));
    assert!(lines[2].contains("ItemReserved") && lines[2].contains("reserve-1"));
    assert!(
        !table.stdout.contains("beans"),
        "the table leaves payloads out"
    );
}

#[test]
fn exec_rejected_exits_1_with_the_reason_on_stderr() {
    let cli = Cli::new();
    let run = cli.run(&["exec", "order", "o-1", "ConfirmOrder"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("rejected [invalid_transition]: ")
            && run.stderr.contains("ConfirmOrder"),
        "{}",
        run.stderr
    );
    let run = cli.run(&[
        "exec",
        "order",
        "o-2",
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":0}"#,
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("[schema_violation]"), "{}", run.stderr);
    // Nothing was written for either.
    assert_eq!(cli.run(&["state", "order", "o-1"]).code, 1);
    assert_eq!(cli.run(&["events", "order", "o-2"]).code, 1);
}

#[test]
fn exec_refuses_a_wrong_expected_version() {
    let cli = Cli::new();
    let create = [
        "exec",
        "order",
        "o-1",
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":1}"#,
        "--expected-version",
        "0",
        "--no-react",
    ];
    cli.run(&create).ok();
    let run = cli.run(&[
        "exec",
        "order",
        "o-1",
        "ReserveItem",
        "--expected-version",
        "0",
        "--no-react",
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("[version_mismatch]"), "{}", run.stderr);
    assert!(run.stderr.contains("version 1"), "{}", run.stderr);
    assert_eq!(cli.events("order", "o-1").len(), 1);
}

#[test]
fn state_and_events_of_a_missing_aggregate_exit_1() {
    let cli = Cli::new();
    for verb in ["state", "events"] {
        let run = cli.run(&[verb, "order", "nope"]);
        assert_eq!(run.code, 1, "{verb}");
        assert!(
            run.stderr.contains("no events for order#nope"),
            "{}",
            run.stderr
        );
    }
    assert!(!cli.store().exists(), "reading verbs create no store");
}
