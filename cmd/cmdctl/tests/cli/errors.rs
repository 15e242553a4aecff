//! Errors and exit codes, TYPE checks, help texts, invalid knobs and an
//! endpoint that never answers.

use crate::harness::*;

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
            vec!["alarms", bad, "o-1"],
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
        &["run", "--help"],
        &["alarms", "--help"],
        &["resend", "--help"],
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
