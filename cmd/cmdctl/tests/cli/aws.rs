//! `setup`, `send`, `worker` and the inspecting verbs against moto.

use crate::harness::*;

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
    let summary = cli.drain(&queue_url, &[]);
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
    let run = cli.run(&["exec", "order", "cli-1", "RefundPayment"]);
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

/// A table of an older layout (no `by-command` index) is refused before
/// any verb uses it, naming the table, the index and the migration note.
#[test]
fn a_table_of_an_older_layout_is_refused() {
    let cli = AwsCli::new();
    let dynamo = aws_sdk_dynamodb::Client::new(&block_on(moto().sdk_config()));
    let table = block_on(testkit::aws::older_layout_table(&dynamo));
    let store = format!("dynamodb:{table}");
    for verb in [&["state", "order", "o-1"][..], &["list", "order"]] {
        let mut args = vec!["--store", store.as_str()];
        args.extend_from_slice(verb);
        let run = cli.run(&args);
        assert_ne!(run.code, 0, "{verb:?}: {}", run.stdout);
        for part in [table.as_str(), "by-command", "docs/cost.md"] {
            assert!(
                run.stderr.contains(part),
                "{verb:?}: {part} in {}",
                run.stderr
            );
        }
    }
}
