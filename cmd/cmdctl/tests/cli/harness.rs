//! What every cli test shares: [`Cli`] (a local store and `config/`),
//! [`AwsCli`] (moto through the SDK's variables), the operator tests'
//! helpers on SQS, and [`Run`], what one run of `cmdctl` left behind.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_cmdctl");

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn config_dir() -> PathBuf {
    repo().join("config")
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures").join(name)
}

/// A store of its own, and `cmdctl` pointed at it and at `config/`.
pub(crate) struct Cli {
    pub(crate) dir: tempfile::TempDir,
}

/// What one run left behind.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from(output: Output) -> Self {
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

    pub(crate) fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    pub(crate) fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The last stdout line, parsed: the Lambda's answer.
    pub(crate) fn failed_ids(&self) -> BTreeSet<String> {
        let last = self.stdout.lines().last().expect("some output");
        failed_ids(&serde_json::from_str(last).expect("the last line is JSON"))
    }

    /// The text line of one message: `[id, aggregate, command, outcome...]`.
    pub(crate) fn message_line(&self, message_id: &str) -> String {
        let line = self
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(message_id))
            .unwrap_or_else(|| panic!("no line for {message_id} in:\n{}", self.stdout));
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

pub(crate) fn failed_ids(answer: &Value) -> BTreeSet<String> {
    answer["batchItemFailures"]
        .as_array()
        .expect("batchItemFailures is an array")
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("an id").to_owned())
        .collect()
}

pub(crate) fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// cmdctl in `dir`, with none of the environment it reads (each test sets
/// what it needs) and no stdin.
pub(crate) fn bare_command(dir: &Path) -> Command {
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

pub(crate) fn run(mut cmd: Command) -> Run {
    Run::from(cmd.output().expect("cmdctl runs"))
}

pub(crate) fn run_with_stdin(mut cmd: Command, stdin: &str) -> Run {
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
    pub(crate) fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().expect("a temp dir"),
        }
    }

    pub(crate) fn store(&self) -> PathBuf {
        self.dir.path().join("store/events.sqlite3")
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bare_command(self.dir.path());
        cmd.arg("--store").arg(self.store());
        if !args.contains(&"--config-dir") {
            cmd.arg("--config-dir").arg(config_dir());
        }
        cmd.args(args);
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    /// `process FIXTURE --no-react`: the fixtures drive orders by hand,
    /// which the saga's reactions would contend with (`react.rs` runs them
    /// on a fixture; `saga.rs` is the saga).
    pub(crate) fn process(&self, name: &str) -> Run {
        let path = fixture(name);
        self.run(&["process", "--no-react", path.to_str().expect("utf-8 path")])
            .ok()
    }

    pub(crate) fn events(&self, aggregate_type: &str, id: &str) -> Vec<Value> {
        let run = self.run(&["events", aggregate_type, id, "--json"]).ok();
        run.json().as_array().expect("an array").clone()
    }
}

// ---------------------------------------------------------------------------
// Against AWS (moto): DynamoDB store, S3 configs, SQS.

/// `cmdctl` pointed at moto through the SDK's own variables, with the
/// Lambda's environment (docs/reference.md §4) naming this test's table and bucket,
/// run in a directory holding a copy of `config/`.
pub(crate) struct AwsCli {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) table: String,
    pub(crate) bucket: String,
}

impl AwsCli {
    pub(crate) fn new() -> Self {
        let cli = AwsCli {
            dir: tempfile::tempdir().expect("a temp dir"),
            table: unique_name("cli-events"),
            bucket: unique_name("cli-configs"),
        };
        let config = cli.dir.path().join("config");
        std::fs::create_dir(&config).unwrap();
        // Every shipped config: they are checked as a set (the order's
        // reactions need the inventory and the payment).
        for entry in std::fs::read_dir(config_dir()).expect("config/") {
            let path = entry.expect("an entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                std::fs::copy(&path, config.join(path.file_name().unwrap())).unwrap();
            }
        }
        cli
    }

    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = bare_command(self.dir.path());
        cmd.args(args)
            .envs(moto().env())
            .env("DYNAMO_TABLE_NAME", &self.table)
            .env("S3_BUCKET_NAME", &self.bucket)
            .env("S3_CONFIG_PREFIX", "configs/");
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run(self.command(args))
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_with_stdin(self.command(args), stdin)
    }

    /// `worker --until-empty --json` on a queue, with `extra` arguments:
    /// its summary.
    pub(crate) fn drain(&self, queue_url: &str, extra: &[&str]) -> Value {
        let mut args = vec![
            "worker",
            "--queue-url",
            queue_url,
            "--until-empty",
            "--json",
        ];
        args.extend_from_slice(extra);
        self.run(&args).ok().json()
    }

    /// `setup` (JSON) of a queue named `prefix-N`: (queue URL, DLQ URL).
    pub(crate) fn setup(&self, prefix: &str, extra: &[&str]) -> (String, String) {
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

pub(crate) fn unique_name(prefix: &str) -> String {
    testkit::moto::unique_name(prefix)
}

pub(crate) fn moto() -> &'static testkit::moto::Moto {
    testkit::moto::moto()
}

// ---------------------------------------------------------------------------
// The operator's verbs against moto: send --file, dlq, list, replay, config
// diff.

pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

pub(crate) fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&block_on(moto().sdk_config()))
}

/// Every message of a queue, received (and hidden for an hour, so that no
/// slowness shows one twice) with all attributes: (body, group,
/// deduplication id).
pub(crate) fn receive_all(queue_url: &str) -> Vec<(Value, String, String)> {
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

pub(crate) fn create_line(id: &str) -> String {
    format!(
        r#"{{"aggregateType":"order","aggregateId":"{id}","command":"CreateOrder","payload":{{"itemId":"beans","quantity":1}}}}"#
    )
}

/// The repository root (two levels above this crate).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `cmd` to its end, or kills it and fails the test when it is still
/// running after `hang` (which is not a measure of speed: only a hang
/// reaches it).
pub(crate) fn run_unless_hung(mut cmd: Command, hang: std::time::Duration) -> Run {
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

// ---------------------------------------------------------------------------
// `cmdctl serve` on a free loopback port, driven through a real socket.

impl Cli {
    /// `cmdctl serve --listen 127.0.0.1:0` on this store and `config/` (or
    /// the `--config` among `args`), until dropped.
    pub(crate) fn serve(&self, args: &[&str]) -> testkit::http::Served {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        testkit::http::Served::start(self.command(&all))
    }
}
