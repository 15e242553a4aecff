//! Malformed and hostile messages, all in one batch with valid ones: each bad
//! message is refused on its own with its specific code and a reason that
//! names the fault (and never quotes a payload value), and every valid one
//! applies. Then the same at the Lambda event level (records without an id,
//! a body or attributes), and events that are not SQS events at all.

mod cases;
mod configs;

use batch_handler::Handler;
use cases::{BIG_TEXT, SECRET, SECRET_DIGITS, bad, envelope, table, valid};
use serde_json::json;
use testkit::scenario::{Scenario, command, config_dir, raw};

#[tokio::test]
async fn every_bad_message_is_refused_on_its_own_with_its_reason() {
    let table = table();
    assert!(table.len() >= 30);
    let valid = valid();

    // Interleave: a valid message after every eighth bad one.
    let mut batch = Vec::new();
    let mut valid_iter = valid.iter();
    for (i, case) in table.iter().enumerate() {
        batch.push(raw(case.body.clone()).id(&case.name));
        if i % 8 == 7
            && let Some((id, _, _, body, _)) = valid_iter.next()
        {
            batch.push(raw(body.clone()).id(id));
        }
    }
    for (id, _, _, body, _) in valid_iter {
        batch.push(raw(body.clone()).id(id));
    }

    // The repository's configs, and one changed out of step with them: it
    // binds an event the payment config binds too.
    let configs = tempfile::tempdir().expect("a temp dir");
    for entry in std::fs::read_dir(config_dir()).expect("config/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::copy(&path, configs.path().join(path.file_name().unwrap())).expect("copied");
        }
    }
    let ledger = json!({
        "aggregateType": "ledger", "version": 1, "initialState": "Open", "states": ["Open"],
        "transitions": [{"command": "Note", "from": ["Open"], "to": "Open", "event": "Noted"}],
        "bindings": [{"source": "payments.provider", "detailType": "PaymentFailed",
                      "command": "Note", "aggregateId": {"var": "detail.orderId"}}]
    });
    std::fs::write(configs.path().join("ledger.json"), ledger.to_string()).expect("written");

    let then = Scenario::with_config_dir(configs.path())
        .given_commands(vec![
            command("ticket", "t-given", "OpenTicket", json!({"title": "given"}))
                .with("commandId", json!("given-open")),
            command("ticket", "t-given", "Comment", json!({"text": "first"}))
                .with("commandId", json!("given-comment")),
            command(
                "order",
                "o-given",
                "CreateOrder",
                json!({"itemId": "x", "quantity": 1}),
            ),
            command(
                "ticket",
                "t-big",
                "OpenTicket",
                json!({"title": "x".repeat(BIG_TEXT)}),
            ),
        ])
        .await
        .when(batch)
        .await;

    let mut wrong = Vec::new();
    for case in &table {
        let outcome = then
            .report
            .outcomes
            .iter()
            .find(|o| o.message_id == case.name)
            .unwrap_or_else(|| panic!("no outcome for {}", case.name));
        match &outcome.result {
            Ok(applied) => wrong.push(format!("{}: applied ({applied:?})", case.name)),
            Err(failure) => {
                let reason = failure.to_string();
                if failure.code() != case.code || !reason.contains(&case.reason) {
                    wrong.push(format!(
                        "{}: got [{}] {reason:?}; want [{}] containing {:?}",
                        case.name,
                        failure.code(),
                        case.code,
                        case.reason
                    ));
                }
                if reason.contains(SECRET) || reason.contains(SECRET_DIGITS) {
                    wrong.push(format!(
                        "{}: the reason quotes a payload value: {reason}",
                        case.name
                    ));
                }
                if !failure.is_permanent() {
                    wrong.push(format!("{}: not permanent", case.name));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        table.len(),
        wrong.join("\n")
    );

    let mut failed: Vec<&str> = table.iter().map(|c| c.name.as_str()).collect();
    failed.sort_unstable();
    let mut then = then.then_failed(&failed);
    for (id, aggregate_type, aggregate_id, _, events) in &valid {
        then = then
            .then_applied(id, 1, false)
            .then_events(aggregate_type, aggregate_id, events)
            .await;
    }
    // Nothing of the bad ones was written.
    let then = then
        .then_events("ticket", "t-given", &["TicketOpened", "CommentAdded"])
        .await
        .then_events("ticket", "t-big", &["TicketOpened"])
        .await
        .then_events("order", "o-given", &["OrderCreated"])
        .await
        .then_events("ticket", "t-u64-max", &[])
        .await
        .then_events("ticket", "t-never-opened", &[])
        .await;

    // Each refusal is recorded under its message id, with the same reason.
    let scenario = then.and();
    let store = scenario.handler().store();
    for case in &table {
        let stored = handler_core::FailureLog::failure(store, &case.name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no failure recorded for {}", case.name));
        assert_eq!(stored.last.code, case.code, "{}", case.name);
        assert!(stored.last.permanent, "{}", case.name);
        assert!(
            stored.last.reason.contains(&case.reason),
            "{}: {}",
            case.name,
            stored.last.reason
        );
        assert!(!stored.last.reason.contains(SECRET), "{}", case.name);
        assert!(!stored.last.reason.contains(SECRET_DIGITS), "{}", case.name);
    }
}

/// The same command resent with its numbers written as integral floats
/// (`2.0`, `2e0`) and its keys in another order is a duplicate: the
/// fingerprint takes one canonical form. A really different payload is still
/// `command_id_reused`.
#[tokio::test]
async fn a_resend_written_with_integral_floats_is_a_duplicate() {
    let first = r#"{"commandId":"c-float","aggregateType":"order","aggregateId":"o-float",
        "command":"CreateOrder","payload":{"itemId":"tea","quantity":2}}"#;
    let resends = [
        (
            "as-float",
            r#"{"commandId":"c-float","aggregateType":"order","aggregateId":"o-float",
            "command":"CreateOrder","payload":{"quantity":2.0,"itemId":"tea"}}"#,
        ),
        (
            "as-exponent",
            r#"{"commandId":"c-float","aggregateType":"order","aggregateId":"o-float",
            "command":"CreateOrder","payload":{"itemId":"tea","quantity":2e0}}"#,
        ),
    ];
    let other = r#"{"commandId":"c-float","aggregateType":"order","aggregateId":"o-float",
        "command":"CreateOrder","payload":{"itemId":"tea","quantity":2.5}}"#;
    let mut then = Scenario::new()
        .given_commands(vec![raw(first).id("first")])
        .await
        .when(
            resends
                .iter()
                .map(|(id, body)| raw(*body).id(id))
                .chain([raw(other).id("other")])
                .collect(),
        )
        .await;
    for (id, _) in resends {
        then = then.then_applied(id, 1, true);
    }
    then.then_reason("other", "command_id_reused")
        .then_events("order", "o-float", &["OrderCreated"])
        .await;
}

/// A Lambda SQS event whose records lack a `messageId`, a `body` or their
/// `attributes`: each such record is dealt with on its own, and the valid
/// records apply.
#[tokio::test]
async fn records_missing_parts_are_refused_on_their_own() {
    let arn = "arn:aws:sqs:eu-west-1:123456789012:commands";
    let open = |id: &str| command("ticket", id, "OpenTicket", json!({"title": "x"})).body;
    let event = json!({"Records": [
        {"messageId": "ok-1", "body": open("t-1"), "attributes": {"ApproximateReceiveCount": "1"},
         "eventSourceARN": arn},
        // No messageId, and a body that is not a command.
        {"body": "{\"aggregateType\":", "attributes": {}, "eventSourceARN": arn},
        // No body at all: handled as an empty one.
        {"messageId": "no-body", "attributes": {}, "eventSourceARN": arn},
        {"messageId": "null-body", "body": null, "eventSourceARN": arn},
        // No attributes, or null ones: nothing needed from them on a
        // standard queue, so the message applies.
        {"messageId": "no-attributes", "body": open("t-2"), "eventSourceARN": arn},
        {"messageId": "null-attributes", "body": open("t-3"), "attributes": null},
        // Nothing but an id.
        {"messageId": "bare"},
        {"messageId": "ok-2", "body": open("t-4"), "attributes": {"ApproximateReceiveCount": "x"},
         "eventSourceARN": arn},
    ]});
    let event = lambda_sqs::parse_event(&event.to_string()).expect("an SQS event");
    let batch = lambda_sqs::to_batch(&event);
    // The record without a messageId is not run: it cannot be named in the
    // answer, which instead fails the whole batch (below).
    assert_eq!(batch.messages.len(), 7);
    assert_eq!(lambda_sqs::unidentified(&event), 1);
    assert!(!batch.fifo);

    let store = std::sync::Arc::new(store_sqlite::SqliteStore::in_memory().unwrap());
    let handler = Handler::new(
        store.clone(),
        config_dir::DirConfigSource::new(config_dir()),
    );
    let report = handler.handle(batch).await;
    let mut failed = report.failed_message_ids();
    failed.sort();
    assert_eq!(failed, vec!["bare", "no-body", "null-body"], "{report:#?}");
    for o in report.outcomes.iter().filter(|o| o.result.is_err()) {
        let failure = o.result.as_ref().unwrap_err();
        assert_eq!(failure.code(), "malformed_message", "{}", o.message_id);
        assert!(
            failure.to_string().contains("the body is empty"),
            "{}: {failure}",
            o.message_id
        );
    }
    for id in ["ok-1", "no-attributes", "null-attributes", "ok-2"] {
        let o = report.outcomes.iter().find(|o| o.message_id == id).unwrap();
        assert!(
            matches!(o.result, Ok(a) if a.version == 1 && !a.duplicate),
            "{id}: {o:?}"
        );
    }
    let response = lambda_sqs::respond(&event, &report);
    let mut named: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    named.sort();
    // The empty identifier makes Lambda retry the whole batch.
    assert_eq!(named, vec!["", "bare", "no-body", "null-body"]);
}

/// Input that is not an SQS event at all is refused by `parse_event`, with
/// an error, never a panic.
#[test]
fn what_is_not_an_sqs_event_is_refused_by_parse_event() {
    let nested = format!("{{\"Records\":{}{}}}", "[".repeat(500), "]".repeat(500));
    let cases = [
        "",
        "null",
        "42",
        "\"Records\"",
        "[]",
        "[{\"messageId\":\"m-1\",\"body\":\"{}\"}]",
        "{}",
        "{\"records\":[]}",
        "{\"Records\":null}",
        "{\"Records\":{}}",
        "{\"Records\":[1]}",
        "{\"Records\":[null]}",
        "{\"Records\":[{\"messageId\":7}]}",
        "{\"Records\":[{\"body\":{\"aggregateType\":\"ticket\"}}]}",
        "{\"Records\":[{\"attributes\":[]}]}",
        "{\"Records\":[{\"attributes\":{\"ApproximateReceiveCount\":1}}]}",
        "{\"Records\":[{\"messageId\":\"m-1\"}]",
        "{\"Records\":[]} trailing",
        &nested,
    ];
    for case in cases {
        let got = lambda_sqs::parse_event(case);
        let err = got.expect_err(case);
        assert_eq!(err.to_string(), "not a Lambda SQS event", "{case}");
    }
    // The smallest event is an empty one; it makes an empty batch.
    let empty = lambda_sqs::parse_event("{\"Records\":[]}").unwrap();
    assert!(lambda_sqs::to_batch(&empty).messages.is_empty());
}

/// Three holes the table above once found, kept as regressions: text after
/// the JSON value, a JSON array shaped like the envelope (serde reads a
/// struct from an array field by field), and a record without a `messageId`
/// (it was run under a stand-in id that then served as its idempotency key;
/// now it is not run, and the answer fails the whole batch instead).
#[tokio::test]
async fn trailing_text_array_bodies_and_records_without_an_id_are_refused() {
    let valid = envelope("t-syntax").to_string();
    let m = "malformed_message";
    let table = [
        bad(
            "json-trailing-garbage",
            format!("{valid} xyz"),
            m,
            "trailing characters",
        ),
        bad(
            "json-two-objects",
            format!("{valid}{valid}"),
            m,
            "trailing characters",
        ),
        bad(
            "json-array-shaped-like-an-envelope",
            r#"[null,"ticket","t-array","OpenTicket",{"title":"t"}]"#,
            m,
            "must be a JSON object",
        ),
    ];
    let then = Scenario::new()
        .when(
            table
                .iter()
                .map(|c| raw(c.body.clone()).id(&c.name))
                .collect(),
        )
        .await;
    for case in &table {
        let failure = then.failure(&case.name);
        assert_eq!(failure.code(), case.code, "{}: {failure}", case.name);
        assert!(
            failure.to_string().contains(&case.reason),
            "{}: {failure}",
            case.name
        );
    }

    let open = |id: &str| command("ticket", id, "OpenTicket", json!({"title": "x"})).body;
    let event = json!({"Records": [{"body": open("t-no-id")}]});
    let event = lambda_sqs::parse_event(&event.to_string()).unwrap();
    let batch = lambda_sqs::to_batch(&event);
    assert!(
        batch.messages.is_empty(),
        "a record without messageId is not run"
    );
    let store = std::sync::Arc::new(store_sqlite::SqliteStore::in_memory().unwrap());
    let handler = Handler::new(store, config_dir::DirConfigSource::new(config_dir()));
    let report = handler.handle(batch).await;
    let response = lambda_sqs::respond(&event, &report);
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        response.batch_item_failures[0].item_identifier, "",
        "the whole batch is retried"
    );
}
