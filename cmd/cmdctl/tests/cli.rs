//! The `cmdctl` binary, run as a user runs it: every test has its own store
//! in a temporary directory and reads the repository's `config/` and
//! `tests/fixtures/`. The AWS tests run it against moto (the `testkit`
//! harness), each with its own table, bucket and queues.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_cmdctl");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config_dir() -> PathBuf {
    repo().join("config")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// A store of its own, and `cmdctl` pointed at it and at `config/`.
struct Cli {
    dir: tempfile::TempDir,
}

/// What one run left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        let run = Run {
            code: output.status.code().expect("exited, not killed"),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        };
        assert!(
            !run.stdout.contains("panicked") && !run.stderr.contains("panicked"),
            "cmdctl panicked:\n{}{}",
            run.stdout,
            run.stderr
        );
        run
    }

    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The last stdout line, parsed: the Lambda's answer.
    fn failed_ids(&self) -> BTreeSet<String> {
        let last = self.stdout.lines().last().expect("some output");
        failed_ids(&serde_json::from_str(last).expect("the last line is JSON"))
    }

    /// The text line of one message: `[id, aggregate, command, outcome...]`.
    fn message_line(&self, message_id: &str) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(message_id))
            .unwrap_or_else(|| panic!("no line for {message_id} in:\n{}", self.stdout));
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn failed_ids(answer: &Value) -> BTreeSet<String> {
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures is an array")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("an id").to_owned())
        .collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// cmdctl in `dir`, with none of the environment it reads (each test sets
/// what it needs) and no stdin.
fn bare_command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for var in [
        "RUST_LOG",
        "CMDCTL_STORE",
        "CMDCTL_CONFIG_DIR",
        "CMDCTL_CONFIG",
        "CMDCTL_QUEUE_URL",
        "CMDCTL_DLQ_URL",
        "REJECT_TO_DLQ_URL",
        "AWS_PROFILE",
        "DYNAMO_TABLE_NAME",
        "S3_BUCKET_NAME",
        "S3_CONFIG_PREFIX",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir).stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command) -> Run {
    Run::from(cmd.output().expect("cmdctl runs"))
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cmdctl runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    Run::from(child.wait_with_output().expect("cmdctl ends"))
}

impl Cli {
    fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store/events.sqlite3")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bare_command(self.dir.path());
        cmd.arg("--store").arg(self.store());
        if !args.contains(&"--config-dir") {
            cmd.arg("--config-dir").arg(config_dir());
        }
        cmd.args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    fn process(&self, name: &str) -> Run {
        let path = fixture(name);
        self.run(&["process", path.to_str().expect("utf-8 path")])
            .ok()
    }

    fn events(&self, aggregate_type: &str, id: &str) -> Vec<Value> {
        let run = self.run(&["events", aggregate_type, id, "--json"]).ok();
        run.json().as_array().expect("an array").clone()
    }
}

#[test]
fn process_success_applies_every_message_in_order() {
    let cli = Cli::new();
    let run = cli.process("sqs-event-success.json");
    assert_eq!(run.failed_ids(), BTreeSet::new());
    assert_eq!(
        run.stdout.lines().last(),
        Some(r#"{"batchItemFailures":[]}"#)
    );
    assert_eq!(run.lines().len(), 9, "8 messages and the answer");
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
        ("msg-mixed-ok-4", "order#o-mixed-2 ReserveItem applied v2"),
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
    assert_eq!(ok["aggregate"], "order#o-mixed-2");
    assert_eq!(ok["command"], "ReserveItem");
    assert_eq!(ok["commandId"], "cmd-mixed-7");
    assert_eq!(ok["version"], 2);
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
    ];
    cli.run(&create).ok();
    let run = cli.run(&[
        "exec",
        "order",
        "o-1",
        "ReserveItem",
        "--expected-version",
        "0",
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

#[test]
fn config_validate_accepts_the_repository_configs() {
    let cli = Cli::new();
    let run = cli.run(&["config", "validate"]).ok();
    let lines = run.lines();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with("ok  ")
            && lines[0].ends_with("order.json (order v1, 8 states, 7 transitions)")
    );
    assert!(lines[1].starts_with("ok  ") && lines[1].contains("ticket.json (ticket v1"));
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
fn errors_exit_non_zero_with_an_error_line() {
    let cli = Cli::new();
    let not_sqs = cli.dir.path().join("not-sqs.json");
    std::fs::write(&not_sqs, r#"{"hello":"world"}"#).unwrap();
    let missing = cli.dir.path().join("missing.json");
    let cases: Vec<Vec<&str>> = vec![
        vec!["process", missing.to_str().unwrap()],
        vec!["process", not_sqs.to_str().unwrap()],
        vec![
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--payload",
            "{not json",
        ],
        vec!["exec", "order", "o-1", "CreateOrder", "--payload", "[1, 2]"],
        vec![
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--metadata",
            "\"text\"",
        ],
        vec![
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--expected-version",
            "-1",
        ],
        vec![
            "--config-dir",
            "/no/such/dir",
            "exec",
            "order",
            "o-1",
            "CreateOrder",
        ],
        vec!["process"],
        vec!["frobnicate"],
    ];
    for args in cases {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    let run = cli.run(&["process", not_sqs.to_str().unwrap()]);
    assert!(
        run.stderr.contains("not a Lambda SQS event"),
        "{}",
        run.stderr
    );
    let run = cli.run_with_stdin(&["process", "-"], "[1");
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
}

/// Every verb that takes a TYPE checks it by the envelope's rules, before
/// touching a store, a config or a queue: exit 2, naming `aggregateType`.
#[test]
fn a_type_the_envelope_would_refuse_is_refused_by_every_verb() {
    let cli = Cli::new();
    let queue = ["--queue-url", "http://127.0.0.1:1/q"];
    for (bad, why) in [
        ("ord/er", "ASCII letters"),
        ("../order", "ASCII letters"),
        ("or#der", "'#'"),
        ("", "must not be empty"),
        ("order\u{202E}", "U+202E"),
        ("or\u{200B}der", "U+200B"),
    ] {
        let mut cases: Vec<Vec<&str>> = vec![
            vec!["state", bad, "o-1"],
            vec!["events", bad, "o-1"],
            vec!["exec", bad, "o-1", "CreateOrder"],
            vec!["send", bad, "o-1", "CreateOrder"],
            vec!["list", bad],
            vec!["replay", bad, "o-1"],
        ];
        cases[3].extend(queue);
        for args in cases {
            let run = cli.run(&args);
            assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("`aggregateType`") && run.stderr.contains(why),
                "{args:?}: {}",
                run.stderr
            );
            assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
        }
    }
    // A valid type still goes through to the store.
    let run = cli.run(&["state", "order", "o-none"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn every_verb_has_help_with_an_example() {
    let cli = Cli::new();
    for verb in [
        &["--help"][..],
        &["process", "--help"],
        &["exec", "--help"],
        &["state", "--help"],
        &["events", "--help"],
        &["config", "--help"],
        &["config", "validate", "--help"],
        &["config", "upload", "--help"],
        &["send", "--help"],
        &["worker", "--help"],
        &["setup", "--help"],
        &["config", "diff", "--help"],
        &["dlq", "--help"],
        &["dlq", "list", "--help"],
        &["dlq", "show", "--help"],
        &["dlq", "redrive", "--help"],
        &["dlq", "purge", "--help"],
        &["list", "--help"],
        &["replay", "--help"],
    ] {
        let run = cli.run(verb).ok();
        assert!(run.stdout.contains("Example"), "{verb:?}:\n{}", run.stdout);
        assert!(
            run.stdout.contains("Exit codes"),
            "{verb:?}:\n{}",
            run.stdout
        );
    }
}

// ---------------------------------------------------------------------------
// Against AWS (moto): DynamoDB store, S3 configs, SQS.

/// `cmdctl` pointed at moto through the SDK's own variables, with the
/// Lambda's environment (CONTRACT §1) naming this test's table and bucket,
/// run in a directory holding a copy of `config/`.
struct AwsCli {
    dir: tempfile::TempDir,
    table: String,
    bucket: String,
}

impl AwsCli {
    fn new() -> Self {
        let cli = AwsCli {
            dir: tempfile::tempdir().expect("a temp dir"),
            table: unique_name("cli-events"),
            bucket: unique_name("cli-configs"),
        };
        let config = cli.dir.path().join("config");
        std::fs::create_dir(&config).unwrap();
        for name in ["order.json", "ticket.json"] {
            std::fs::copy(config_dir().join(name), config.join(name)).unwrap();
        }
        cli
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bare_command(self.dir.path());
        cmd.args(args)
            .envs(moto().env())
            .env("DYNAMO_TABLE_NAME", &self.table)
            .env("S3_BUCKET_NAME", &self.bucket)
            .env("S3_CONFIG_PREFIX", "configs/");
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    /// `setup` (JSON) of a queue named `prefix-N`: (queue URL, DLQ URL).
    fn setup(&self, prefix: &str, extra: &[&str]) -> (String, String) {
        let queue = unique_name(prefix);
        let mut args = vec!["setup", "--queue", &queue, "--json"];
        args.extend_from_slice(extra);
        let doc = self.run(&args).ok().json();
        (
            doc["queueUrl"].as_str().expect("queueUrl").to_owned(),
            doc["dlqUrl"].as_str().expect("dlqUrl").to_owned(),
        )
    }
}

fn unique_name(prefix: &str) -> String {
    testkit::moto::unique_name(prefix)
}

fn moto() -> &'static testkit::moto::Moto {
    testkit::moto::moto()
}

#[test]
fn aws_setup_upload_send_work_and_inspect_through_dynamodb_and_s3() {
    let cli = AwsCli::new();
    let queue = unique_name("cli-q");

    // setup: table, bucket, queue + DLQ, and the export lines; twice is fine.
    let run = cli.run(&["setup", "--queue", &queue]).ok();
    let lines = run.lines();
    let queue_url = lines[0]
        .strip_prefix("queue")
        .expect("queue line first")
        .trim()
        .to_owned();
    assert!(queue_url.ends_with(&format!("/{queue}")), "{}", run.stdout);
    assert!(
        lines[1].trim_end().ends_with(&format!("/{queue}-dlq")),
        "{}",
        run.stdout
    );
    for line in [
        format!("export DYNAMO_TABLE_NAME={}", cli.table),
        format!("export S3_BUCKET_NAME={}", cli.bucket),
        "export S3_CONFIG_PREFIX=configs/".to_owned(),
        format!("export CMDCTL_QUEUE_URL={queue_url}"),
    ] {
        assert!(
            lines.contains(&line.as_str()),
            "missing {line:?} in:\n{}",
            run.stdout
        );
    }
    let again = cli.run(&["setup", "--queue", &queue, "--json"]).ok().json();
    assert_eq!(again["queueUrl"], queue_url.as_str());
    assert_eq!(again["table"], cli.table.as_str());

    // config upload: every config/*.json, key + etag each; then the
    // deployed objects validate.
    let run = cli.run(&["config", "upload"]).ok();
    for key in ["configs/order.json", "configs/ticket.json"] {
        let line = run
            .lines()
            .into_iter()
            .find(|l| l.contains(&format!("s3://{}/{key}", cli.bucket)))
            .unwrap_or_else(|| panic!("no line for {key}:\n{}", run.stdout));
        assert!(line.contains("etag \""), "{line}");
    }
    let run = cli.run(&["config", "validate"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "ok  s3://{}/configs/order.json (order v1",
            cli.bucket
        )),
        "{}",
        run.stdout
    );

    // send: three good commands and one that can never apply.
    let payload = r#"{"itemId":"beans","quantity":2}"#;
    let sends: [&[&str]; 4] = [
        &[
            "order",
            "cli-1",
            "CreateOrder",
            "--payload",
            payload,
            "--metadata",
            r#"{"correlationId":"c-9"}"#,
        ],
        &[
            "order",
            "cli-1",
            "ReserveItem",
            "--command-id",
            "reserve-cli-1",
        ],
        &["order", "cli-1", "ConfirmOrder"],
        &[
            "ticket",
            "cli-t",
            "OpenTicket",
            "--payload",
            r#"{"title":"lost order"}"#,
        ],
    ];
    for args in sends {
        let mut full = vec!["send"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--queue-url", &queue_url]);
        let run = cli.run(&full).ok();
        assert_eq!(run.lines().len(), 1, "one message id: {}", run.stdout);
    }

    // worker: one batch, the bad one left on the queue.
    let summary = cli
        .run(&[
            "worker",
            "--queue-url",
            &queue_url,
            "--until-empty",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(summary["received"], 4, "{summary}");
    assert_eq!(summary["applied"], 3, "{summary}");
    assert_eq!(summary["failed"], 1, "{summary}");
    assert_eq!(summary["deleteFailed"], 0, "{summary}");
    assert!(summary["batches"].as_u64().unwrap() >= 1, "{summary}");

    // events, exec, state: from DynamoDB (DYNAMO_TABLE_NAME), configs from S3.
    let events = cli.run(&["events", "order", "cli-1", "--json"]).ok().json();
    let types: Vec<&str> = events
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["OrderCreated", "ItemReserved"]);
    assert_eq!(events[0]["metadata"]["correlationId"], "c-9");
    assert_eq!(events[1]["commandId"], "reserve-cli-1");

    let run = cli
        .run(&[
            "exec",
            "order",
            "cli-1",
            "CancelOrder",
            "--expected-version",
            "2",
        ])
        .ok();
    assert!(run.stdout.starts_with("applied v3"), "{}", run.stdout);
    let state = cli.run(&["state", "order", "cli-1", "--json"]).ok().json();
    assert_eq!(state["state"], "Cancelled");
    assert_eq!(state["version"], 3);
    let run = cli.run(&["exec", "order", "cli-1", "ReserveItem"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("invalid_transition"), "{}", run.stderr);

    let run = cli.run(&["state", "order", "nobody"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "no events for order#nobody in dynamodb:{}",
            cli.table
        )),
        "{}",
        run.stderr
    );
    // An explicit --store still wins over DYNAMO_TABLE_NAME.
    let local = cli.dir.path().join("local.sqlite3");
    let run = cli.run(&[
        "--store",
        local.to_str().unwrap(),
        "events",
        "order",
        "cli-1",
    ]);
    assert_eq!(run.code, 1, "{}", run.stdout);
}

#[test]
fn aws_send_on_a_fifo_queue_sets_the_group_and_deduplication() {
    let cli = AwsCli::new();
    let (queue_url, dlq_url) = cli.setup("cli-fq", &["--fifo"]);
    cli.run(&["config", "upload"]).ok();
    assert!(queue_url.ends_with(".fifo") && dlq_url.ends_with("-dlq.fifo"));

    let sent = cli
        .run(&[
            "send",
            "order",
            "cli-f",
            "CreateOrder",
            "--payload",
            r#"{"itemId":"tea","quantity":1}"#,
            "--queue-url",
            &queue_url,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(sent["messageGroupId"], "order#cli-f");
    let command_id = sent["commandId"].as_str().expect("a generated command id");
    assert!(command_id.starts_with("cmdctl-"), "{sent}");
    // The same command id again: the FIFO queue drops it (its deduplication
    // id is the command id), so the worker receives 2 messages, not 3.
    cli.run(&[
        "send",
        "order",
        "cli-f",
        "CreateOrder",
        "--payload",
        r#"{"itemId":"tea","quantity":1}"#,
        "--command-id",
        command_id,
        "--queue-url",
        &queue_url,
        "--json",
    ])
    .ok();
    cli.run(&[
        "send",
        "order",
        "cli-f",
        "ReserveItem",
        "--queue-url",
        &queue_url,
    ])
    .ok();

    let run = cli
        .run(&["worker", "--queue-url", &queue_url, "--until-empty"])
        .ok();
    assert_eq!(
        run.stdout.trim(),
        "2 received, 2 applied, 0 failed in 1 batch",
        "{}",
        run.stdout
    );
    let events = cli.run(&["events", "order", "cli-f", "--json"]).ok().json();
    assert_eq!(events.as_array().unwrap().len(), 2);
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

    cli.run(&["config", "upload", v2.to_str().unwrap()]).ok();
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
    assert_eq!(deployed(), BTreeMap::from([("order".to_owned(), 2)]));

    // The same version again is no downgrade; --force goes back.
    cli.run(&["config", "upload", v2.to_str().unwrap()]).ok();
    let run = cli.run(&["config", "upload", "--force"]).ok();
    assert!(run.stdout.contains("(order v1)"), "{}", run.stdout);
    assert_eq!(
        deployed(),
        BTreeMap::from([("order".to_owned(), 1), ("ticket".to_owned(), 1)])
    );
}

// ---------------------------------------------------------------------------
// The operator's verbs against moto: send --file, dlq, list, replay, config
// diff.

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&block_on(moto().sdk_config()))
}

/// Every message of a queue, received (and hidden for an hour, so that no
/// slowness shows one twice) with all attributes: (body, group,
/// deduplication id).
fn receive_all(queue_url: &str) -> Vec<(Value, String, String)> {
    use aws_sdk_sqs::types::MessageSystemAttributeName as A;
    let sqs = sqs();
    let mut out = Vec::new();
    for _ in 0..5 {
        let received = block_on(
            sqs.receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(3600)
                .message_system_attribute_names(A::All)
                .send(),
        )
        .expect("ReceiveMessage");
        for m in received.messages() {
            let system = |name: A| {
                m.attributes()
                    .and_then(|a| a.get(&name))
                    .cloned()
                    .unwrap_or_default()
            };
            out.push((
                serde_json::from_str(m.body().unwrap()).expect("a JSON body"),
                system(A::MessageGroupId),
                system(A::MessageDeduplicationId),
            ));
        }
    }
    out
}

fn create_line(id: &str) -> String {
    format!(
        r#"{{"aggregateType":"order","aggregateId":"{id}","command":"CreateOrder","payload":{{"itemId":"beans","quantity":1}}}}"#
    )
}

#[test]
fn aws_send_file_sends_every_line_by_batches_or_nothing() {
    let cli = AwsCli::new();
    let (queue_url, _) = cli.setup("cli-sf", &[]);
    cli.run(&["config", "upload"]).ok();

    // 13 commands (two batches), between comments and blank lines.
    let mut text = "# orders for the test\n\n".to_owned();
    for i in 0..13 {
        text.push_str(&create_line(&format!("sf-{i:02}")));
        text.push('\n');
    }
    let file = cli.dir.path().join("commands.jsonl");
    std::fs::write(&file, &text).unwrap();
    let file = file.to_str().unwrap();
    let doc = cli
        .run(&["send", "--file", file, "--queue-url", &queue_url, "--json"])
        .ok()
        .json();
    let sent = doc["sent"].as_array().expect("sent");
    assert_eq!(sent.len(), 13, "{doc}");
    assert_eq!(sent[0]["line"], 3);
    assert_eq!(sent[12]["line"], 15);
    assert!(sent.iter().all(|s| s["messageId"].is_string()));
    assert_eq!(doc["failed"].as_array().unwrap().len(), 0);
    let summary = cli
        .run(&[
            "worker",
            "--queue-url",
            &queue_url,
            "--until-empty",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(summary["applied"], 13, "{summary}");

    // Any bad line: every one reported by number, nothing sent.
    let bad = format!(
        "{}\n{{not json\n{}\n{}\n",
        create_line("sf-ok"),
        create_line("a#b"),
        create_line("sf-ok-2").replace("CreateOrder\"", "CreateOrder\",\"colour\":\"red\"")
    );
    let run = cli.run_with_stdin(&["send", "--file", "-", "--queue-url", &queue_url], &bad);
    assert_eq!(run.code, 2, "{}", run.stderr);
    for needle in [
        "stdin:2: malformed",
        "stdin:3: ",
        "stdin:4: ",
        "nothing sent: 3 invalid",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    let summary = cli
        .run(&[
            "worker",
            "--queue-url",
            &queue_url,
            "--until-empty",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(summary["received"], 0, "nothing was sent: {summary}");

    // A file and a command at once is a usage error.
    let run = cli.run(&[
        "send",
        "order",
        "x",
        "CreateOrder",
        "--file",
        file,
        "--queue-url",
        &queue_url,
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn aws_send_file_on_fifo_groups_by_aggregate_and_dedupes_by_command_id() {
    let cli = AwsCli::new();
    let (queue_url, _) = cli.setup("cli-sff", &["--fifo"]);
    let with_id = create_line("ff-b").replacen('{', r#"{"commandId":"fixed-id-1","#, 1);
    let text = format!(
        "{}\n{}\n{with_id}\n",
        create_line("ff-a"),
        create_line("ff-c")
    );
    let run = cli.run_with_stdin(
        &["send", "--file", "-", "--queue-url", &queue_url, "--json"],
        &text,
    );
    let doc = run.ok().json();
    let sent = doc["sent"].as_array().expect("sent");
    assert_eq!(sent.len(), 3, "{doc}");
    assert_eq!(sent[0]["messageGroupId"], "order#ff-a");
    assert_eq!(sent[2]["commandId"], "fixed-id-1");

    let mut received = receive_all(&queue_url);
    received.sort_by_key(|(_, group, _)| group.clone());
    assert_eq!(received.len(), 3, "{received:?}");
    for (body, group, dedup) in &received {
        let aggregate = format!(
            "order#{}",
            body["aggregateId"].as_str().expect("an aggregateId")
        );
        assert_eq!(group, &aggregate);
        assert_eq!(
            body["commandId"].as_str(),
            Some(dedup.as_str()),
            "the deduplication id is the commandId, written into the body"
        );
    }
    assert_eq!(received[1].2, "fixed-id-1");
    assert!(received[0].2.starts_with("file-"), "{:?}", received[0]);
}

/// Sends the first half of a file, then (as an operator re-running it
/// after a partial failure) the whole file, with a worker run after each:
/// every line applies once, also the two equal lines, which are two
/// commands. None of the lines has a `commandId`.
fn send_file_again_applies_each_line_once(fifo: bool) {
    let cli = AwsCli::new();
    let extra: &[&str] = if fifo { &["--fifo"] } else { &[] };
    let (queue_url, _) = cli.setup("cli-sfa", extra);
    cli.run(&["config", "upload"]).ok();
    let ticket = unique_name("t");
    let line = |command: &str, payload: &str| {
        format!(
            r#"{{"aggregateType":"ticket","aggregateId":"{ticket}","command":"{command}","payload":{payload}}}"#
        )
    };
    let lines = [
        line("OpenTicket", r#"{"title":"wet beans"}"#),
        line("Comment", r#"{"text":"+1"}"#),
        line("Comment", r#"{"text":"photos attached"}"#),
        line("Comment", r#"{"text":"+1"}"#),
        line("Assign", r#"{"assignee":"ana"}"#),
        line("Comment", r#"{"text":"on it"}"#),
    ];
    let half = lines[..3].join("\n");
    let whole = lines.join("\n");
    let worker = || -> Value {
        cli.run(&[
            "worker",
            "--queue-url",
            &queue_url,
            "--until-empty",
            "--wait-seconds",
            "0",
            "--json",
        ])
        .ok()
        .json()
    };
    let send = |text: &str| -> Value {
        cli.run_with_stdin(
            &["send", "--file", "-", "--queue-url", &queue_url, "--json"],
            text,
        )
        .ok()
        .json()
    };

    let first = send(&half);
    assert_eq!(first["sent"].as_array().unwrap().len(), 3, "{first}");
    let stats = worker();
    assert_eq!(
        (&stats["applied"], &stats["failed"]),
        (&serde_json::json!(3), &serde_json::json!(0)),
        "{stats}"
    );
    let again = send(&whole);
    assert_eq!(again["sent"].as_array().unwrap().len(), 6, "{again}");
    for i in 0..3 {
        assert_eq!(
            again["sent"][i]["commandId"],
            first["sent"][i]["commandId"],
            "line {} keeps its commandId: {again}",
            i + 1
        );
    }
    let stats = worker();
    assert_eq!(
        (&stats["received"], &stats["applied"], &stats["failed"]),
        (
            &serde_json::json!(6),
            &serde_json::json!(6),
            &serde_json::json!(0)
        ),
        "the first three are duplicates, the rest apply: {stats}"
    );

    let events = cli
        .run(&["events", "ticket", &ticket, "--json"])
        .ok()
        .json();
    let types: Vec<&str> = events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "TicketOpened",
            "CommentAdded",
            "CommentAdded",
            "CommentAdded",
            "TicketAssigned",
            "CommentAdded"
        ],
        "each line applied once: {events}"
    );
}

#[test]
fn aws_send_file_run_again_applies_each_line_once_on_a_standard_queue() {
    send_file_again_applies_each_line_once(false);
}

#[test]
fn aws_send_file_run_again_applies_each_line_once_on_a_fifo_queue() {
    send_file_again_applies_each_line_once(true);
}

#[test]
fn aws_dlq_purge_and_redrive_refuse_a_queue_that_is_no_dead_letter_queue() {
    let cli = AwsCli::new();
    let (queue_url, dlq_url) = cli.setup("cli-live", &[]);
    // A command waits on the live queue; its URL is given as the DLQ's.
    let run = cli.run(&[
        "send",
        "order",
        "live-1",
        "CreateOrder",
        "--payload",
        r#"{"itemId":"beans","quantity":1}"#,
        "--queue-url",
        &queue_url,
    ]);
    run.ok();
    for args in [
        vec!["dlq", "purge", "--yes", "--dlq-url", &queue_url],
        vec!["dlq", "redrive", "--all", "--dlq-url", &queue_url],
        vec![
            "dlq",
            "redrive",
            "--all",
            "--no-move-task",
            "--dlq-url",
            &queue_url,
            "--queue-url",
            &dlq_url,
        ],
    ] {
        let run = cli.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains(&format!("{queue_url} is no queue's dead-letter queue")),
            "{args:?}: {}",
            run.stderr
        );
    }
    let depth = |url: &str| -> String {
        let out = block_on(
            sqs()
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages,
                )
                .send(),
        )
        .expect("GetQueueAttributes");
        out.attributes()
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            })
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(depth(&queue_url), "1", "the live queue keeps its command");
    assert_eq!(depth(&dlq_url), "0", "and nothing was moved");
    // The real DLQ is still purged.
    cli.run(&["dlq", "purge", "--yes", "--dlq-url", &dlq_url])
        .ok();
}

#[test]
fn aws_dlq_list_show_redrive_purge() {
    let cli = AwsCli::new();
    let (queue_url, dlq_url) = cli.setup("cli-dlq", &["--visibility-timeout", "0"]);
    cli.run(&["config", "upload"]).ok();
    let send = |args: &[&str]| -> String {
        let mut full = vec!["send"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--queue-url", &queue_url, "--json"]);
        cli.run(&full).ok().json()["messageId"]
            .as_str()
            .expect("a message id")
            .to_owned()
    };
    let worker = |extra: &[&str]| -> Value {
        let mut args = vec![
            "worker",
            "--queue-url",
            &queue_url,
            "--until-empty",
            "--wait-seconds",
            "0",
            "--json",
        ];
        args.extend_from_slice(extra);
        cli.run(&args).ok().json()
    };
    let payload = r#"{"itemId":"beans","quantity":1}"#;
    for id in ["dq-1", "dq-2"] {
        send(&["order", id, "CreateOrder", "--payload", payload]);
    }
    worker(&[]);
    let bad1 = send(&["order", "dq-1", "ConfirmOrder"]);
    let bad2 = send(&["order", "dq-2", "ConfirmOrder"]);
    let summary = worker(&["--reject-to-dlq", &dlq_url]);
    assert_eq!(summary["deadLettered"], 2, "{summary}");

    // list: found from the queue's redrive policy, each with its reason.
    let run = cli.run(&["dlq", "list", "--queue-url", &queue_url]).ok();
    assert!(run.lines()[0].starts_with("messageId"), "{}", run.stdout);
    assert_eq!(run.lines().len(), 3, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "invalid_transition: command `ConfirmOrder` is not allowed in state `Created`"
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("order#dq-1"), "{}", run.stdout);
    let listed = cli
        .run(&["dlq", "list", "--dlq-url", &dlq_url, "--json"])
        .ok()
        .json();
    let listed = listed.as_array().expect("an array").clone();
    assert_eq!(listed.len(), 2);
    let mut originals: Vec<&str> = listed
        .iter()
        .map(|m| m["originalMessageId"].as_str().unwrap())
        .collect();
    originals.sort();
    let mut want = vec![bad1.as_str(), bad2.as_str()];
    want.sort();
    assert_eq!(originals, want);
    for m in &listed {
        assert_eq!(m["code"], "invalid_transition", "{m}");
        assert_eq!(m["failures"], 1, "{m}");
        assert_eq!(m["rejectedToDlq"], true, "{m}");
        assert!(m["lastFailedAt"].is_string(), "{m}");
    }

    // show: by the original id; a missing one exits 1.
    let run = cli
        .run(&["dlq", "show", &bad1, "--queue-url", &queue_url])
        .ok();
    assert!(run.stdout.contains("ConfirmOrder"), "{}", run.stdout);
    assert!(run.stdout.contains("body:"), "{}", run.stdout);
    let shown = cli
        .run(&["dlq", "show", &bad1, "--dlq-url", &dlq_url, "--json"])
        .ok()
        .json();
    assert_eq!(shown["failure"]["last"]["code"], "invalid_transition");
    assert_eq!(shown["attributes"]["rejectionCode"], "invalid_transition");
    assert!(shown["body"].as_str().unwrap().contains("ConfirmOrder"));
    let run = cli.run(&["dlq", "show", "no-such-id", "--dlq-url", &dlq_url]);
    assert_eq!(run.code, 1, "{}", run.stderr);

    // Fix the cause, then redrive one by its DLQ id, then all.
    for id in ["dq-1", "dq-2"] {
        send(&["order", id, "ReserveItem"]);
        send(&[
            "order",
            id,
            "ProcessPayment",
            "--payload",
            r#"{"amount":3,"currency":"EUR"}"#,
        ]);
    }
    worker(&[]);
    let first = listed
        .iter()
        .find(|m| m["originalMessageId"] == bad1.as_str())
        .unwrap()["messageId"]
        .as_str()
        .unwrap()
        .to_owned();
    let run = cli
        .run(&["dlq", "redrive", &first, "--queue-url", &queue_url])
        .ok();
    assert!(run.stdout.contains("1 message moved"), "{}", run.stdout);
    assert_eq!(worker(&[])["applied"], 1);
    let events = cli.run(&["events", "order", "dq-1", "--json"]).ok().json();
    assert_eq!(events.as_array().unwrap().len(), 4);
    assert_eq!(events[3]["eventType"], "OrderConfirmed");

    let run = cli.run(&["dlq", "redrive", "--queue-url", &queue_url]);
    assert_eq!(run.code, 2, "neither ids nor --all: {}", run.stderr);
    let run = cli.run(&["dlq", "redrive", "--all", "--dlq-url", &dlq_url, "--json"]);
    let report = run.ok().json();
    assert_eq!(report["method"], "sendThenDelete", "{report}");
    assert!(report["moveTaskRefused"].is_string(), "moto: {report}");
    assert_eq!(report["moved"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        report["queueUrl"],
        queue_url.as_str(),
        "found by ListDeadLetterSourceQueues"
    );
    assert_eq!(worker(&[])["applied"], 1);

    // purge: refused without a terminal or --yes; done with --yes.
    send(&["order", "dq-1", "CreateOrder", "--payload", payload]);
    worker(&["--reject-to-dlq", &dlq_url]);
    let run = cli.run(&["dlq", "purge", "--queue-url", &queue_url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    let listed = cli
        .run(&["dlq", "list", "--dlq-url", &dlq_url, "--json"])
        .ok()
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing purged");
    cli.run(&["dlq", "purge", "--queue-url", &queue_url, "--yes"])
        .ok();
    let listed = cli
        .run(&["dlq", "list", "--dlq-url", &dlq_url, "--json"])
        .ok()
        .json();
    assert_eq!(listed, serde_json::json!([]));

    let run = cli.run(&["dlq", "list"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("which dead-letter queue"),
        "{}",
        run.stderr
    );
}

#[test]
fn aws_list_pages_and_replay_detects_a_tampered_head() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let cli = AwsCli::new();
    cli.setup("cli-ls", &[]);
    cli.run(&["config", "upload"]).ok();
    let payload = r#"{"itemId":"beans","quantity":2}"#;
    for i in 1..=5 {
        let id = format!("ls-{i:02}");
        cli.run(&["exec", "order", &id, "CreateOrder", "--payload", payload])
            .ok();
    }
    cli.run(&["exec", "order", "ls-02", "ReserveItem"]).ok();

    // list: everything, or page by page.
    let run = cli.run(&["list", "order"]).ok();
    assert_eq!(run.lines().len(), 6, "{}", run.stdout);
    assert_eq!(
        run.lines()[2].split_whitespace().collect::<Vec<_>>(),
        ["ls-02", "Reserved", "2"]
    );
    let mut after: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut args = vec!["list", "order", "--limit", "2", "--json"];
        if let Some(after) = &after {
            args.extend_from_slice(&["--after", after]);
        }
        let doc = cli.run(&args).ok().json();
        let ids: Vec<String> = doc["aggregates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["aggregateId"].as_str().unwrap().to_owned())
            .collect();
        pages.push(ids);
        match doc["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        pages,
        [
            vec!["ls-01", "ls-02"],
            vec!["ls-03", "ls-04"],
            vec!["ls-05"]
        ]
    );
    let empty = cli.run(&["list", "ticket", "--json"]).ok().json();
    assert_eq!(empty["aggregates"], serde_json::json!([]));

    // replay: consistent, then a head written behind the handler's back.
    let run = cli.run(&["replay", "order", "ls-02"]).ok();
    assert_eq!(
        run.stdout.trim(),
        "order#ls-02: consistent (2 events, Reserved v2)"
    );
    let dynamo = aws_sdk_dynamodb::Client::new(&block_on(moto().sdk_config()));
    block_on(
        dynamo
            .update_item()
            .table_name(&cli.table)
            .key("pk", AttributeValue::S("order#ls-02".into()))
            .key("sk", AttributeValue::N("0".into()))
            .update_expression("SET #state = :state, #data = :data")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#data", "data")
            .expression_attribute_values(":state", AttributeValue::S("Paid".into()))
            .expression_attribute_values(
                ":data",
                AttributeValue::S(r#"{"itemId":"beans","quantity":7,"secret":"x"}"#.into()),
            )
            .send(),
    )
    .expect("UpdateItem");
    let run = cli.run(&["replay", "order", "ls-02"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for line in [
        "state: head Paid, events give Reserved",
        "data.quantity: differs",
        "data.secret: only in the head",
    ] {
        assert!(run.stdout.contains(line), "{line}: {}", run.stdout);
    }
    assert!(
        !run.stdout.contains('7'),
        "no values by default: {}",
        run.stdout
    );
    let run = cli.run(&["replay", "order", "ls-02", "--show-values"]);
    assert!(
        run.stdout
            .contains("data.quantity: differs (head 7, events give 2)"),
        "{}",
        run.stdout
    );
    let doc = cli.run(&["replay", "order", "ls-02", "--json"]).json();
    assert_eq!(doc["consistent"], false);
    assert_eq!(doc["differences"].as_array().unwrap().len(), 3, "{doc}");
    let run = cli.run(&["replay", "order", "nobody"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn aws_config_diff_shows_what_an_upload_would_change() {
    let cli = AwsCli::new();
    cli.setup("cli-cd", &[]);
    cli.run(&["config", "upload"]).ok();
    let run = cli.run(&["config", "diff", "--exit-code"]).ok();
    assert_eq!(run.lines().len(), 2, "{}", run.stdout);
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

/// The repository root (two levels above this crate).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cargo make local` (deploy/local.sh): starts its own moto on a free
/// port, creates the walkthrough's resources with this cmdctl, uploads the
/// configs, prints the environment; `stop` stops that moto. Run from a
/// shell holding real AWS credentials (fake ones here), it gives moto the
/// dummy pair and never prints or writes the caller's.
#[test]
fn the_local_task_sets_up_an_emulator_and_stops_it() {
    moto(); // provisions target/moto-venv on a machine without moto
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let script = repo_root().join("cmd/command-handler/deploy/local.sh");
    let run = |args: &[&str]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .env("MOTO_PORT", &port)
            .env("CMDCTL", env!("CARGO_BIN_EXE_cmdctl"))
            .env_remove("AWS_ENDPOINT_URL")
            .envs(REAL_CREDENTIALS)
            .output()
            .expect("bash runs local.sh")
    };
    let up = run(&[]);
    let stdout = String::from_utf8_lossy(&up.stdout);
    let stderr = String::from_utf8_lossy(&up.stderr);
    let stopped = run(&["stop"]);
    assert!(up.status.success(), "local.sh failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("AWS_ENDPOINT_URL=http://127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("DYNAMO_TABLE_NAME=events"), "{stdout}");
    assert!(stdout.contains("CMDCTL_QUEUE_URL="), "{stdout}");
    let env_file = std::fs::read_to_string(repo_root().join("target/deploy/local.env"))
        .expect("local.sh writes target/deploy/local.env");
    assert!(
        env_file.contains("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"),
        "{env_file}"
    );
    for (name, secret) in REAL_CREDENTIALS {
        for (place, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("local.env", &*env_file),
        ] {
            assert!(!text.contains(secret), "{name}'s value in {place}:\n{text}");
        }
    }
    assert!(
        stderr.contains("order.json") && stderr.contains("ticket.json"),
        "{stderr}"
    );
    assert!(stopped.status.success());
    assert!(
        String::from_utf8_lossy(&stopped.stdout).contains("stopped moto"),
        "{}",
        String::from_utf8_lossy(&stopped.stdout)
    );
}

/// What a shell logged in to AWS holds (fake values, unlike any moto uses).
const REAL_CREDENTIALS: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "AKIAREALKEYNOTFORMOTO"),
    ("AWS_SECRET_ACCESS_KEY", "real/secret+key/not-for-moto"),
    ("AWS_SESSION_TOKEN", "real-session-token-not-for-moto"),
    ("AWS_PROFILE", "real-profile-not-for-moto"),
];

/// `cargo make zip` (deploy/stack.py zip): `bootstrap` at the root of the
/// archive, executable, the same bytes for the same binary.
#[test]
fn the_zip_task_packages_bootstrap_at_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("bootstrap");
    std::fs::write(&binary, b"#!/bin/sh\necho not really a lambda\n").unwrap();
    let script = repo_root().join("cmd/command-handler/deploy/stack.py");
    let zip = |out: &Path| {
        let status = Command::new("python3")
            .arg(&script)
            .arg("zip")
            .arg(&binary)
            .arg(out)
            .status()
            .expect("python3 runs stack.py");
        assert!(status.success());
        std::fs::read(out).unwrap()
    };
    let first = zip(&dir.path().join("a.zip"));
    let second = zip(&dir.path().join("b.zip"));
    assert_eq!(first, second, "deterministic");
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             print([(i.filename, oct(i.external_attr >> 16 & 0o777)) for i in z.infolist()])",
        ])
        .arg(dir.path().join("a.zip"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        "[('bootstrap', '0o755')]"
    );
}

/// Runs `cmd` to its end, or kills it and fails the test when it is still
/// running after `hang` (which is not a measure of speed: only a hang
/// reaches it).
fn run_unless_hung(mut cmd: Command, hang: std::time::Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cmdctl runs");
    let started = std::time::Instant::now();
    while child.try_wait().expect("cmdctl can be waited on").is_none() {
        if started.elapsed() > hang {
            let _ = child.kill();
            let output = child.wait_with_output().expect("cmdctl ends once killed");
            panic!(
                "cmdctl still running after {hang:?}: it hangs\nstderr:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Run::from(child.wait_with_output().expect("cmdctl ends"))
}

/// cmdctl against DynamoDB at an endpoint that accepts connections and never
/// answers: a clear error within its timeouts (here 1 s per attempt, 2 s per
/// operation), never a hang.
#[test]
fn aws_calls_to_an_endpoint_that_never_answers_end_in_a_clear_error() {
    let hole = testkit::black_hole::BlackHole::start();
    let dir = tempfile::tempdir().expect("a temp dir");
    let verbs: [&[&str]; 2] = [
        &[
            "exec",
            "order",
            "o-1",
            "CreateOrder",
            "--payload",
            r#"{"itemId":"tea","quantity":1}"#,
        ],
        &["state", "order", "o-1"],
    ];
    for verb in verbs {
        let mut cmd = bare_command(dir.path());
        cmd.args(["--store", "dynamodb:events", "--config"])
            .arg(config_dir())
            .args(verb)
            .env("AWS_ENDPOINT_URL", hole.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ATTEMPT_TIMEOUT_MS", "1000")
            .env("AWS_OPERATION_TIMEOUT_MS", "2000");
        let run = run_unless_hung(cmd, std::time::Duration::from_secs(60));
        assert_ne!(run.code, 0, "{verb:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("timeout"),
            "{verb:?} names the timeout:\n{}",
            run.stderr
        );
    }
    assert!(hole.connections() > 0, "the calls went to the black hole");
}

/// The knobs the Lambda reads apply to cmdctl too, through the same parser:
/// an invalid one is refused before anything runs.
#[test]
fn an_invalid_knob_is_refused_with_its_name() {
    let cli = Cli::new();
    for (name, value) in [
        ("HANDLER_CONCURRENCY", "0"),
        ("MAX_CONFLICT_ATTEMPTS", "many"),
        ("CONFIG_CACHE_SECONDS", "-5"),
        ("DEADLINE_MARGIN_MS", "2s"),
        ("AWS_OPERATION_TIMEOUT_MS", "0"),
    ] {
        let mut cmd = cli.command(&[
            "process",
            fixture("sqs-event-success.json").to_str().unwrap(),
        ]);
        cmd.env(name, value);
        let run = run(cmd);
        assert_eq!(run.code, 2, "{name}={value}: {}", run.stdout);
        assert!(
            run.stderr.contains(name) && run.stderr.contains("whole number"),
            "{}",
            run.stderr
        );
        assert!(!cli.store().exists(), "nothing ran");
    }
}
