//! The `cmdctl` binary, run as a user runs it: every test has its own store
//! in a temporary directory and reads the repository's `config/` and
//! `tests/fixtures/`. The AWS tests run it against moto (the `testkit`
//! harness), each with its own table, bucket and queues.

use std::collections::BTreeSet;
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
        let mut cmd = Command::new(BIN);
        cmd.arg("--store").arg(self.store());
        if !args.contains(&"--config-dir") {
            cmd.arg("--config-dir").arg(config_dir());
        }
        cmd.args(args)
            .env_remove("RUST_LOG")
            .env_remove("CMDCTL_STORE")
            .env_remove("CMDCTL_CONFIG_DIR")
            .env_remove("CMDCTL_CONFIG")
            .env_remove("CMDCTL_QUEUE_URL")
            .env_remove("DYNAMO_TABLE_NAME")
            .env_remove("S3_BUCKET_NAME")
            .env_remove("S3_CONFIG_PREFIX")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("cmdctl runs"))
    }

    fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self
            .command(args)
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

    fn run(&self, args: &[&str]) -> Run {
        let output = Command::new(BIN)
            .args(args)
            .envs(moto().env())
            .env("DYNAMO_TABLE_NAME", &self.table)
            .env("S3_BUCKET_NAME", &self.bucket)
            .env("S3_CONFIG_PREFIX", "configs/")
            .env_remove("RUST_LOG")
            .env_remove("CMDCTL_STORE")
            .env_remove("CMDCTL_CONFIG_DIR")
            .env_remove("CMDCTL_CONFIG")
            .env_remove("CMDCTL_QUEUE_URL")
            .env_remove("AWS_PROFILE")
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("cmdctl runs");
        Run::from(output)
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
