//! `process`: fixtures of SQS events run through the handler, locally.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::harness::*;

#[test]
fn process_success_applies_every_message_in_order() {
    let cli = Cli::new();
    let run = cli.process("sqs-event-success.json");
    assert_eq!(run.failed_ids(), BTreeSet::new());
    assert_eq!(
        run.stdout.lines().last(),
        Some(r#"{"batchItemFailures":[]}"#)
    );
    assert_eq!(
        run.lines().len(),
        9,
        "8 messages and the answer (the reactions: react.rs)"
    );
    let expected = [
        ("msg-ok-1", "order#o-success-1 CreateOrder applied v1"),
        ("msg-ok-2", "order#o-success-2 CreateOrder applied v1"),
        ("msg-ok-3", "ticket#t-success-1 OpenTicket applied v1"),
        ("msg-ok-4", "order#o-success-1 ReserveItem applied v2"),
        ("msg-ok-5", "order#o-success-1 ProcessPayment applied v3"),
        ("msg-ok-6", "ticket#t-success-1 Assign applied v2"),
        ("msg-ok-7", "order#o-success-1 ConfirmOrder applied v4"),
        ("msg-ok-8", "order#o-success-2 CancelOrder applied v2"),
    ];
    for (id, rest) in expected {
        assert_eq!(run.message_line(id), format!("{id} {rest}"));
    }
    let state = cli.run(&["state", "order", "o-success-1", "--json"]).ok();
    let state = state.json();
    assert_eq!(state["state"], "Confirmed");
    assert_eq!(state["version"], 4);
    assert_eq!(state["data"]["currency"], "EUR");
}

#[test]
fn process_mixed_reports_exactly_the_three_failures() {
    let cli = Cli::new();
    let run = cli.process("sqs-event-mixed.json");
    assert_eq!(
        run.failed_ids(),
        ids(&["msg-bad-transition", "msg-bad-schema", "msg-bad-json"])
    );
    for (id, applied) in [
        ("msg-mixed-ok-1", "order#o-mixed-1 CreateOrder applied v1"),
        ("msg-mixed-ok-2", "order#o-mixed-2 CreateOrder applied v1"),
        ("msg-mixed-ok-3", "ticket#t-mixed-1 OpenTicket applied v1"),
        (
            "msg-mixed-ok-4",
            "inventory#milk-frother Restock applied v1",
        ),
        ("msg-mixed-ok-5", "ticket#t-mixed-1 Comment applied v2"),
    ] {
        assert_eq!(run.message_line(id), format!("{id} {applied}"));
    }
    let line = run.message_line("msg-bad-transition");
    assert!(
        line.starts_with(
            "msg-bad-transition order#o-mixed-2 ConfirmOrder rejected [invalid_transition]: "
        ),
        "{line}"
    );
    assert!(line.contains("state `Created`"), "{line}");
    let line = run.message_line("msg-bad-schema");
    assert!(
        line.starts_with(
            "msg-bad-schema order#o-mixed-3 CreateOrder rejected [schema_violation]: "
        ),
        "{line}"
    );
    assert!(line.contains("/quantity"), "{line}");
    let line = run.message_line("msg-bad-json");
    assert!(
        line.starts_with("msg-bad-json - - rejected [malformed_message]: "),
        "{line}"
    );
    // Failed messages are logged as JSON lines on stderr by default.
    let logged: Vec<Value> = run
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("stderr holds JSON log lines"))
        .collect();
    assert_eq!(logged.len(), 3, "{}", run.stderr);
}

#[test]
fn process_focused_fixtures_fail_only_the_bad_message() {
    for (name, bad, code) in [
        (
            "sqs-event-invalid-transition.json",
            "msg-bad-transition",
            "invalid_transition",
        ),
        (
            "sqs-event-schema-violation.json",
            "msg-bad-schema",
            "schema_violation",
        ),
        (
            "sqs-event-malformed.json",
            "msg-bad-json",
            "malformed_message",
        ),
    ] {
        let cli = Cli::new();
        let run = cli.process(name);
        assert_eq!(run.failed_ids(), ids(&[bad]), "{name}");
        assert!(
            run.message_line("msg-ok-1").ends_with(" applied v1"),
            "{name}: {}",
            run.stdout
        );
        assert!(
            run.message_line(bad)
                .contains(&format!(" rejected [{code}]: ")),
            "{name}: {}",
            run.stdout
        );
    }
}

#[test]
fn process_fifo_holds_back_the_rest_of_a_failed_group() {
    let cli = Cli::new();
    let run = cli.process("sqs-event-fifo.json");
    assert_eq!(run.failed_ids(), ids(&["msg-fifo-1b", "msg-fifo-1c"]));
    assert!(run.message_line("msg-fifo-1a").ends_with(" applied v1"));
    assert!(
        run.message_line("msg-fifo-1b")
            .contains(" rejected [invalid_transition]: ")
    );
    assert!(
        run.message_line("msg-fifo-1c")
            .contains(" failed [held_back]: ")
    );
    for (id, version) in [("msg-fifo-2a", 1), ("msg-fifo-2b", 2), ("msg-fifo-2c", 3)] {
        assert!(
            run.message_line(id)
                .ends_with(&format!(" applied v{version}")),
            "{}",
            run.stdout
        );
    }
    assert_eq!(cli.events("order", "o-fifo-1").len(), 1);
    assert_eq!(cli.events("order", "o-fifo-2").len(), 3);
}

#[test]
fn processing_a_fixture_twice_writes_nothing_new() {
    let cli = Cli::new();
    let first = cli.process("sqs-event-success.json");
    let before = cli.events("order", "o-success-1");
    assert_eq!(before.len(), 4);

    let second = cli.process("sqs-event-success.json");
    assert_eq!(second.failed_ids(), BTreeSet::new());
    for line in &second.lines()[..8] {
        assert!(line.contains(" duplicate v"), "{}", second.stdout);
    }
    // Same versions as the first run reported.
    for id in ["msg-ok-1", "msg-ok-4", "msg-ok-7", "msg-ok-8"] {
        assert_eq!(
            second.message_line(id),
            first.message_line(id).replace(" applied ", " duplicate ")
        );
    }
    assert_eq!(cli.events("order", "o-success-1"), before);
    assert_eq!(cli.events("order", "o-success-2").len(), 2);
    assert_eq!(cli.events("ticket", "t-success-1").len(), 2);
}

#[test]
fn processing_mixed_twice_repeats_the_failures_and_dedupes_the_rest() {
    let cli = Cli::new();
    cli.process("sqs-event-mixed.json");
    let before = cli.events("order", "o-mixed-2");
    let second = cli.process("sqs-event-mixed.json");
    assert_eq!(
        second.failed_ids(),
        ids(&["msg-bad-transition", "msg-bad-schema", "msg-bad-json"])
    );
    for id in ["msg-mixed-ok-1", "msg-mixed-ok-2", "msg-mixed-ok-4"] {
        assert!(second.message_line(id).contains(" duplicate v"));
    }
    assert_eq!(cli.events("order", "o-mixed-2"), before);
}

#[test]
fn process_json_has_every_outcome_and_the_answer() {
    let cli = Cli::new();
    let path = fixture("sqs-event-mixed.json");
    let run = cli.run(&["process", path.to_str().unwrap(), "--json"]).ok();
    let doc = run.json();
    assert_eq!(
        failed_ids(&doc),
        ids(&["msg-bad-transition", "msg-bad-schema", "msg-bad-json"])
    );
    let outcomes = doc["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 8);
    let by_id = |id: &str| {
        outcomes
            .iter()
            .find(|o| o["messageId"] == id)
            .unwrap_or_else(|| panic!("no outcome for {id}"))
            .clone()
    };
    let ok = by_id("msg-mixed-ok-4");
    assert_eq!(ok["outcome"], "applied");
    assert_eq!(ok["aggregate"], "inventory#milk-frother");
    assert_eq!(ok["command"], "Restock");
    assert_eq!(ok["commandId"], "cmd-mixed-7");
    assert_eq!(ok["version"], 1);
    assert_eq!(ok["duplicate"], false);
    assert!(ok.get("reasonCode").is_none());
    let bad = by_id("msg-bad-schema");
    assert_eq!(bad["outcome"], "rejected");
    assert_eq!(bad["reasonCode"], "schema_violation");
    assert_eq!(bad["permanent"], true);
    assert!(bad["reason"].as_str().unwrap().contains("/quantity"));
    assert!(bad.get("version").is_none());
    let malformed = by_id("msg-bad-json");
    assert_eq!(malformed["aggregate"], Value::Null);
    assert_eq!(malformed["reasonCode"], "malformed_message");
}

#[test]
fn process_reads_stdin() {
    let cli = Cli::new();
    let event = std::fs::read_to_string(fixture("sqs-event-malformed.json")).unwrap();
    let run = cli.run_with_stdin(&["process", "-"], &event).ok();
    assert_eq!(run.failed_ids(), ids(&["msg-bad-json"]));
}
