//! `dlq list/show/redrive/purge` against moto.

use serde_json::Value;

use crate::harness::*;

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
        let mut args = vec!["--wait-seconds", "0"];
        args.extend_from_slice(extra);
        cli.drain(&queue_url, &args)
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
