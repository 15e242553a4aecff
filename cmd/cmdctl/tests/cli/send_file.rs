//! `send --file` against moto: batches, FIFO groups, running a file again.

use serde_json::Value;

use crate::harness::*;

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
    let summary = cli.drain(&queue_url, &[]);
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
    let summary = cli.drain(&queue_url, &[]);
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
    let worker = || -> Value { cli.drain(&queue_url, &["--wait-seconds", "0"]) };
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
