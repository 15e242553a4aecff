//! Malformed and hostile messages, all in one batch with valid ones: each bad
//! message is refused on its own with its specific code and a reason that
//! names the fault (and never quotes a payload value), and every valid one
//! applies. Then the same at the Lambda event level (records without an id,
//! a body or attributes), and events that are not SQS events at all.

use batch_handler::Handler;
use handler_core::envelope::{
    MAX_AGGREGATE_ID_BYTES, MAX_AGGREGATE_TYPE_BYTES, MAX_BODY_BYTES, MAX_COMMAND_BYTES,
    MAX_COMMAND_ID_BYTES,
};
use serde_json::{Value, json};
use testkit::scenario::{Scenario, command, config_dir, raw};

/// Planted in payloads and metadata of bad messages: no reason may quote it.
const SECRET: &str = "SECRET-4111-1111";
/// Its digits, planted as numbers: no reason may quote them either.
const SECRET_DIGITS: &str = "4111";

/// A valid envelope for a fresh ticket, as a JSON object to spoil.
fn envelope(id: &str) -> Value {
    json!({
        "aggregateType": "ticket",
        "aggregateId": id,
        "command": "OpenTicket",
        "payload": {"title": "t", "description": SECRET},
        "metadata": {"who": SECRET},
    })
}

/// `envelope(id)` with `field` set to `value`.
fn with(id: &str, field: &str, value: Value) -> String {
    let mut body = envelope(id);
    body[field] = value;
    body.to_string()
}

/// `envelope(id)` without `field`.
fn without(id: &str, field: &str) -> String {
    let mut body = envelope(id);
    body.as_object_mut().unwrap().remove(field);
    body.to_string()
}

/// `envelope(id)` with one field's value replaced by raw JSON text (for
/// values `serde_json::Value` cannot hold or would normalise).
fn with_raw(id: &str, field: &str, raw_value: &str) -> String {
    let mut body = envelope(id);
    body[field] = json!("@@RAW@@");
    body.to_string().replace("\"@@RAW@@\"", raw_value)
}

/// One malformed or hostile message: its name (also its message id), body,
/// the reason code it must fail with, and a substring of the reason.
struct Bad {
    name: String,
    body: String,
    code: String,
    reason: String,
}

/// The table of bad messages: `tests/fixtures/bad_input/messages.jsonl`, one
/// case a line, in batch order. Each line names the case (`name`), says why
/// it is there (`why`, optional), gives its body by one of `body` (the text
/// as is), `json` (an object, serialised), `set` (the base [`envelope`] with
/// fields replaced), `without` (the envelope without a field), `raw` (the
/// envelope with one field's value as raw JSON text: numbers and escapes a
/// JSON value would normalise) or `generator` (built here: sizes at the
/// limits, deep nesting), with `id` the envelope's aggregate id (default
/// `t-x`); then the failure `code` and a `reason` substring, where
/// `{MAX_..}` names a limit.
fn table() -> Vec<Bad> {
    testkit::fixtures::read("bad_input/messages.jsonl")
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let case: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("bad_input/messages.jsonl: {e}: {line}"));
            let text = |key: &str| case[key].as_str().map(str::to_owned);
            let name = text("name").expect("a name");
            let id = text("id").unwrap_or_else(|| "t-x".to_owned());
            let body = if let Some(body) = text("body") {
                body
            } else if let Some(object) = case.get("json") {
                object.to_string()
            } else if let Some(fields) = case["set"].as_object() {
                let mut body = envelope(&id);
                for (field, value) in fields {
                    body[field] = value.clone();
                }
                body.to_string()
            } else if let Some(field) = text("without") {
                without(&id, &field)
            } else if let Some(raw) = case.get("raw") {
                let field = raw["field"].as_str().expect("raw.field");
                with_raw(&id, field, raw["text"].as_str().expect("raw.text"))
            } else if let Some(generator) = text("generator") {
                generated(&generator)
            } else {
                panic!("{name}: no body, json, set, without, raw or generator")
            };
            Bad {
                body,
                code: text("code").expect("a code"),
                reason: with_limits(&text("reason").expect("a reason")),
                name,
            }
        })
        .collect()
}

/// `reason` with every `{MAX_..}` and `{MAX_..+1}` replaced by the limit.
fn with_limits(reason: &str) -> String {
    let limits = [
        ("MAX_AGGREGATE_TYPE_BYTES", MAX_AGGREGATE_TYPE_BYTES),
        ("MAX_AGGREGATE_ID_BYTES", MAX_AGGREGATE_ID_BYTES),
        ("MAX_COMMAND_BYTES", MAX_COMMAND_BYTES),
        ("MAX_COMMAND_ID_BYTES", MAX_COMMAND_ID_BYTES),
        ("MAX_BODY_BYTES", MAX_BODY_BYTES),
    ];
    let mut reason = reason.to_owned();
    for (name, value) in limits {
        reason = reason
            .replace(&format!("{{{name}+1}}"), &(value + 1).to_string())
            .replace(&format!("{{{name}}}"), &value.to_string());
    }
    reason
}

const BIG_TEXT: usize = 220 * 1024;

/// The bodies a data file cannot hold: sizes just past the limits, deep
/// nesting.
fn generated(generator: &str) -> String {
    match generator {
        "long-aggregateType" => with(
            "t-x",
            "aggregateType",
            json!("t".repeat(MAX_AGGREGATE_TYPE_BYTES + 1)),
        ),
        "long-aggregateId" => with(
            "t-x",
            "aggregateId",
            json!("i".repeat(MAX_AGGREGATE_ID_BYTES + 1)),
        ),
        "long-command" => with("t-x", "command", json!("C".repeat(MAX_COMMAND_BYTES + 1))),
        "long-commandId" => with(
            "t-x",
            "commandId",
            json!("c".repeat(MAX_COMMAND_ID_BYTES + 1)),
        ),
        "payload-nested-200-deep" => format!(
            "{{\"aggregateType\":\"ticket\",\"aggregateId\":\"t-deep\",\"command\":\"OpenTicket\",\
             \"payload\":{{\"title\":\"t\",\"deep\":{}{}}}}}",
            "[".repeat(200),
            "]".repeat(200)
        ),
        "body-over-256-KiB" => with(
            "t-huge",
            "payload",
            json!({"title": "t", "blob": "x".repeat(MAX_BODY_BYTES)}),
        ),
        "item-over-400-KB" => {
            command(
                "ticket",
                "t-big",
                "Comment",
                json!({"text": "y".repeat(BIG_TEXT)}),
            )
            .body
        }
        other => panic!("no generator {other}"),
    }
}

fn bad(name: &str, body: impl Into<String>, code: &str, reason: &str) -> Bad {
    Bad {
        name: name.to_owned(),
        body: body.into(),
        code: code.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The valid messages interleaved with the bad ones, each for an aggregate
/// of its own: (message id, aggregate type, aggregate id, body, events then).
fn valid() -> Vec<(
    &'static str,
    &'static str,
    String,
    String,
    Vec<&'static str>,
)> {
    let open = |id: &str| command("ticket", id, "OpenTicket", json!({"title": "ok"})).body;
    let long_id = "i".repeat(MAX_AGGREGATE_ID_BYTES);
    vec![
        (
            "ok-plain",
            "ticket",
            "t-ok".into(),
            open("t-ok"),
            vec!["TicketOpened"],
        ),
        (
            "ok-order",
            "order",
            "o-ok".into(),
            command(
                "order",
                "o-ok",
                "CreateOrder",
                json!({"itemId": "beans", "quantity": 3}),
            )
            .body,
            vec!["OrderCreated"],
        ),
        // Decision: whitespace is allowed in an id (and a commandId) unless it
        // is a control character; the id is opaque text.
        (
            "ok-blank-id",
            "ticket",
            "   ".into(),
            command("ticket", "   ", "OpenTicket", json!({"title": "ok"}))
                .with("commandId", json!("  "))
                .body,
            vec!["TicketOpened"],
        ),
        // Only the type is restricted: an id may hold `/`, `..` and any
        // non-control Unicode.
        (
            "ok-path-like-id",
            "ticket",
            "../../etc/passwd".into(),
            open("../../etc/passwd"),
            vec!["TicketOpened"],
        ),
        (
            "ok-unicode-id",
            "ticket",
            "tïckét-ü-✓-🎫".into(),
            open("tïckét-ü-✓-🎫"),
            vec!["TicketOpened"],
        ),
        (
            "ok-longest-id",
            "ticket",
            long_id.clone(),
            open(&long_id),
            vec!["TicketOpened"],
        ),
        (
            "ok-nulls-are-absent",
            "ticket",
            "t-nulls".into(),
            json!({"aggregateType": "ticket", "aggregateId": "t-nulls", "command": "OpenTicket",
                   "payload": {"title": "ok"}, "commandId": null, "expectedVersion": null,
                   "metadata": null})
            .to_string(),
            vec!["TicketOpened"],
        ),
        (
            "ok-expected-version-0",
            "ticket",
            "t-v0".into(),
            command("ticket", "t-v0", "OpenTicket", json!({"title": "ok"}))
                .with("expectedVersion", json!(0))
                .body,
            vec!["TicketOpened"],
        ),
        // Numbers at ±(2^53 − 1), the edge of what every JSON reader holds.
        (
            "ok-numbers-at-the-limit",
            "ticket",
            "t-limit".into(),
            with_raw(
                "t-limit",
                "metadata",
                r#"{"n":[9007199254740991,-9007199254740991,9007199254740991.0,0.5]}"#,
            ),
            vec!["TicketOpened"],
        ),
        (
            "ok-deep-but-allowed",
            "ticket",
            "t-deep-ok".into(),
            format!(
                "{{\"aggregateType\":\"ticket\",\"aggregateId\":\"t-deep-ok\",\"command\":\"OpenTicket\",\
                 \"payload\":{{\"title\":\"t\"}},\"metadata\":{{\"deep\":{}{}}}}}",
                "[".repeat(100),
                "]".repeat(100)
            ),
            vec!["TicketOpened"],
        ),
    ]
}

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

    let then = Scenario::new()
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
        .then_events("ticket", "t-reuse", &[])
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
