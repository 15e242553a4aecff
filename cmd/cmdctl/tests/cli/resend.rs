//! `cmdctl resend` against moto (issue 20 item 4): the reactions of stored
//! events rebuilt from the configs and sent again to the command queue,
//! under the same deterministic ids on every run; the embedded store is
//! refused with the local way named.

use crate::harness::*;

#[test]
fn resend_rebuilds_a_types_reactions_from_the_store_under_the_same_ids() {
    let cli = AwsCli::new();
    let (queue_url, _dlq) = cli.setup("cli-rs", &[]);
    cli.run(&["config", "upload"]).ok();
    for id in ["rs-1", "rs-2"] {
        let run = cli
            .run(&[
                "exec",
                "order",
                id,
                "CreateOrder",
                "--payload",
                r#"{"itemId":"beans","quantity":2}"#,
            ])
            .ok();
        assert!(run.stdout.starts_with("applied v1"), "{}", run.stdout);
    }
    // Nothing ran the stream: the queue holds no reaction yet.
    assert!(receive_all(&queue_url).is_empty());

    let mut runs = Vec::new();
    for _ in 0..2 {
        let doc = cli
            .run(&[
                "resend",
                "--type",
                "order",
                "--queue-url",
                &queue_url,
                "--json",
            ])
            .ok()
            .json();
        assert_eq!(doc["events"], 2, "{doc}");
        assert_eq!(doc["reactionsSent"], 2, "{doc}");
        assert_eq!(doc["reactionsFailed"], 0, "{doc}");
        assert!(doc["stoppedAt"].is_null(), "{doc}");
        let mut ids: Vec<String> = receive_all(&queue_url)
            .into_iter()
            .map(|(body, _, _)| {
                assert_eq!(body["command"], "Reserve", "{body}");
                assert_eq!(body["aggregateType"], "inventory", "{body}");
                body["commandId"].as_str().expect("a commandId").to_owned()
            })
            .collect();
        ids.sort();
        runs.push(ids);
    }
    assert_eq!(runs[0], ["order#rs-1@1/0", "order#rs-2@1/0"]);
    assert_eq!(runs[0], runs[1], "the same ids on every run");

    // The embedded store: refused, naming the local way.
    let local = Cli::new();
    let run = local.run(&["resend", "--type", "order", "--queue-url", &queue_url]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cmdctl run --checkpoint"),
        "{}",
        run.stderr
    );
}
