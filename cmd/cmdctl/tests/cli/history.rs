//! `list` and `replay` against moto.

use crate::harness::*;

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

    // list: everything, or page by page, in the store's listing order (by
    // shard, then id: the same on every call).
    let run = cli.run(&["list", "order"]).ok();
    assert_eq!(run.lines().len(), 6, "{}", run.stdout);
    let rows: Vec<Vec<&str>> = run.lines()[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(
        rows.contains(&vec!["ls-02", "Reserved", "2"]),
        "{}",
        run.stdout
    );
    let listed: Vec<String> = rows.iter().map(|r| r[0].to_owned()).collect();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(sorted, ["ls-01", "ls-02", "ls-03", "ls-04", "ls-05"]);
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
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [2, 2, 1],
        "{pages:?}"
    );
    assert_eq!(pages.concat(), listed, "pages follow the listing's order");
    let empty = cli.run(&["list", "ticket", "--json"]).ok().json();
    assert_eq!(empty["aggregates"], serde_json::json!([]));

    // replay: consistent, then a head written behind the handler's back.
    // The head is the newest event, whose `state` the fold reads too, so only
    // its `data` can disagree with the history.
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
            .key("sk", AttributeValue::N("2".into()))
            .update_expression("SET #data = :data")
            .expression_attribute_names("#data", "data")
            .expression_attribute_values(
                ":data",
                AttributeValue::S(r#"{"itemId":"beans","quantity":7,"secret":"x"}"#.into()),
            )
            .send(),
    )
    .expect("UpdateItem");
    let run = cli.run(&["replay", "order", "ls-02"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    for line in ["data.quantity: differs", "data.secret: only in the head"] {
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
    assert_eq!(doc["differences"].as_array().unwrap().len(), 2, "{doc}");
    let run = cli.run(&["replay", "order", "nobody"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}
