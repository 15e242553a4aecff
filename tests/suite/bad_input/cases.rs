//! The table of bad messages and the valid ones that share their batch.

use handler_core::envelope::{
    MAX_AGGREGATE_ID_BYTES, MAX_AGGREGATE_TYPE_BYTES, MAX_BODY_BYTES, MAX_COMMAND_BYTES,
    MAX_COMMAND_ID_BYTES,
};
use serde_json::{Value, json};
use testkit::scenario::command;

/// Planted in payloads and metadata of bad messages: no reason may quote it.
pub(super) const SECRET: &str = "SECRET-4111-1111";
/// Its digits, planted as numbers: no reason may quote them either.
pub(super) const SECRET_DIGITS: &str = "4111";

/// A valid envelope for a fresh ticket, as a JSON object to spoil.
pub(super) fn envelope(id: &str) -> Value {
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
pub(super) struct Bad {
    pub(super) name: String,
    pub(super) body: String,
    pub(super) code: String,
    pub(super) reason: String,
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
pub(super) fn table() -> Vec<Bad> {
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

/// A field that fits an event's item once, not twice: an item holds the
/// payload and the state after it (table layout 2), so the ticket opened with it
/// (150 KB twice) fits, and a comment of it (150 KB, state 300 KB) does not.
pub(super) const BIG_TEXT: usize = 150 * 1024;

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
        // An order (its type publishes) whose body is at the limit, mostly
        // metadata: the event fits an item, its bus entry (the body's
        // fields and `eventId`, `state`, `version`, `recordedAt`…) does not.
        "publication-over-256-KiB" => {
            let with_note = |note: &str| {
                json!({"aggregateType": "order", "aggregateId": "o-pub", "command": "CreateOrder",
                    "payload": {"itemId": "x", "quantity": 1}, "metadata": {"note": note}})
                .to_string()
            };
            with_note(&"n".repeat(MAX_BODY_BYTES - with_note("").len()))
        }
        // An outside event one byte over the limit of a message.
        "event-over-256-KiB" => {
            let event = |blob: &str| {
                json!({"version": "0", "id": "e-huge", "detail-type": "PaymentSucceeded",
                    "source": "payments.provider", "detail": {"orderId": "o-x", "blob": blob}})
                .to_string()
            };
            event(&"b".repeat(MAX_BODY_BYTES + 1 - event("").len()))
        }
        other => panic!("no generator {other}"),
    }
}

pub(super) fn bad(name: &str, body: impl Into<String>, code: &str, reason: &str) -> Bad {
    Bad {
        name: name.to_owned(),
        body: body.into(),
        code: code.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The valid messages interleaved with the bad ones, each for an aggregate
/// of its own: (message id, aggregate type, aggregate id, body, events then).
pub(super) fn valid() -> Vec<(
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
