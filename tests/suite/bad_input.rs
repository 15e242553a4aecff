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
    name: &'static str,
    body: String,
    code: &'static str,
    reason: String,
}

fn bad(name: &'static str, body: impl Into<String>, code: &'static str, reason: &str) -> Bad {
    Bad {
        name,
        body: body.into(),
        code,
        reason: reason.to_owned(),
    }
}

const BIG_TEXT: usize = 220 * 1024;

fn table() -> Vec<Bad> {
    let m = "malformed_message";
    let valid = envelope("t-syntax").to_string();
    let deep = format!(
        "{{\"aggregateType\":\"ticket\",\"aggregateId\":\"t-deep\",\"command\":\"OpenTicket\",\
         \"payload\":{{\"title\":\"t\",\"deep\":{}{}}}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    let huge_body = with(
        "t-huge",
        "payload",
        json!({"title": "t", "blob": "x".repeat(MAX_BODY_BYTES)}),
    );
    vec![
        // Not JSON, or not a JSON object.
        bad(
            "json-truncated",
            &valid[..valid.len() / 2],
            m,
            "EOF while parsing",
        ),
        bad("json-empty", "", m, "the body is empty"),
        bad("json-blank", " \n\t ", m, "the body is empty"),
        bad("json-string", r#""OpenTicket""#, m, "must be a JSON object"),
        bad("json-number", "42", m, "must be a JSON object"),
        bad("json-null", "null", m, "must be a JSON object"),
        bad("json-true", "true", m, "must be a JSON object"),
        bad(
            "json-array-of-numbers",
            "[1,2,3]",
            m,
            "malformed command message",
        ),
        bad("json-empty-array", "[]", m, "malformed command message"),
        bad(
            "json-single-quotes",
            "{'aggregateType':'ticket'}",
            m,
            "key must be a string",
        ),
        bad(
            "json-lone-surrogate",
            with_raw("t-x", "aggregateId", r#""\ud800""#),
            m,
            "hex escape",
        ),
        bad(
            "json-duplicate-field",
            format!("{{\"aggregateType\":\"ticket\",{}", &valid[1..]),
            m,
            "duplicate field `aggregateType`",
        ),
        // Wrong types.
        bad(
            "type-aggregateType-number",
            with("t-x", "aggregateType", json!(7)),
            m,
            "aggregateType: invalid type: integer",
        ),
        bad(
            "type-aggregateId-object",
            with("t-x", "aggregateId", json!({"id": "t-1"})),
            m,
            "aggregateId: invalid type: map",
        ),
        bad(
            "type-command-bool",
            with("t-x", "command", json!(true)),
            m,
            "command: invalid type: boolean",
        ),
        bad(
            "type-commandId-number",
            with("t-x", "commandId", json!(12)),
            m,
            "commandId: invalid type: integer",
        ),
        bad(
            "type-payload-array",
            with("t-x", "payload", json!([SECRET])),
            m,
            "`payload` must be a JSON object",
        ),
        bad(
            "type-payload-string",
            with("t-x", "payload", json!(SECRET)),
            m,
            "`payload` must be a JSON object",
        ),
        bad(
            "type-payload-number",
            with("t-x", "payload", json!(4111)),
            m,
            "`payload` must be a JSON object",
        ),
        bad(
            "type-metadata-array",
            with("t-x", "metadata", json!([SECRET])),
            m,
            "`metadata` must be a JSON object",
        ),
        bad(
            "type-expectedVersion-string",
            with("t-x", "expectedVersion", json!("1")),
            m,
            "expectedVersion: invalid type: string",
        ),
        bad(
            "type-expectedVersion-float",
            with("t-x", "expectedVersion", json!(1.5)),
            m,
            "expectedVersion: invalid type: floating point",
        ),
        bad(
            "type-expectedVersion-bool",
            with("t-x", "expectedVersion", json!(false)),
            m,
            "expectedVersion: invalid type: boolean",
        ),
        // Missing required fields, unknown fields.
        bad(
            "missing-aggregateType",
            without("t-x", "aggregateType"),
            m,
            "missing field `aggregateType`",
        ),
        bad(
            "missing-aggregateId",
            without("t-x", "aggregateId"),
            m,
            "missing field `aggregateId`",
        ),
        bad(
            "missing-command",
            without("t-x", "command"),
            m,
            "missing field `command`",
        ),
        bad("missing-everything", "{}", m, "missing field"),
        bad(
            "unknown-field",
            with("t-x", "priority", json!("high")),
            m,
            "unknown field `priority`",
        ),
        bad(
            "unknown-field-near-typo",
            with("t-x", "aggregateID", json!("t-x")),
            m,
            "unknown field `aggregateID`",
        ),
        bad(
            "unknown-field-snake-case",
            with("t-x", "aggregate_type", json!("ticket")),
            m,
            "unknown field `aggregate_type`",
        ),
        bad(
            "unknown-field-null",
            with("t-x", "extra", Value::Null),
            m,
            "unknown field `extra`",
        ),
        // Empty strings; whitespace in the type.
        bad(
            "empty-aggregateType",
            with("t-x", "aggregateType", json!("")),
            m,
            "`aggregateType` must not be empty",
        ),
        bad(
            "empty-aggregateId",
            with("t-x", "aggregateId", json!("")),
            m,
            "`aggregateId` must not be empty",
        ),
        bad(
            "empty-command",
            with("t-x", "command", json!("")),
            m,
            "`command` must not be empty",
        ),
        bad(
            "empty-commandId",
            with("t-x", "commandId", json!("")),
            m,
            "`commandId` must not be empty",
        ),
        bad(
            "blank-aggregateType",
            with("t-x", "aggregateType", json!("  ")),
            m,
            "ASCII letters",
        ),
        bad(
            "padded-aggregateType",
            with("t-x", "aggregateType", json!(" ticket")),
            m,
            "ASCII letters",
        ),
        // A blank command is a command name no config has.
        bad(
            "blank-command",
            with("t-blank-cmd", "command", json!("   ")),
            "unknown_command",
            "unknown command `   `",
        ),
        // `#` separates type and id in the table key.
        bad(
            "hash-in-aggregateType",
            with("t-x", "aggregateType", json!("tic#ket")),
            m,
            "'#'",
        ),
        bad(
            "hash-in-aggregateId",
            with("t-x", "aggregateId", json!("t#1")),
            m,
            "'#'",
        ),
        bad(
            "hash-leading-aggregateId",
            with("t-x", "aggregateId", json!("#cmd#c-1")),
            m,
            "'#'",
        ),
        // Control characters.
        bad(
            "nul-in-aggregateId",
            with("t-x", "aggregateId", json!("t\u{0}1")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "newline-in-aggregateId",
            with("t-x", "aggregateId", json!("t-1\nINFO forged log line")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "escape-in-aggregateId",
            with("t-x", "aggregateId", json!("\u{1b}[31mt-1")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "tab-as-aggregateId",
            with("t-x", "aggregateId", json!("\t")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "del-in-aggregateId",
            with("t-x", "aggregateId", json!("t\u{7f}")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "c1-control-in-aggregateId",
            with("t-x", "aggregateId", json!("t\u{85}")),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "nul-in-aggregateType",
            with("t-x", "aggregateType", json!("ticket\u{0}")),
            m,
            "`aggregateType` contains a control character",
        ),
        bad(
            "newline-in-command",
            with("t-x", "command", json!("Open\nTicket")),
            m,
            "`command` contains a control character",
        ),
        bad(
            "bell-in-commandId",
            with("t-x", "commandId", json!("c\u{7}")),
            m,
            "`commandId` contains a control character",
        ),
        // An aggregate type names a file and an S3 key: no paths.
        bad(
            "slash-in-aggregateType",
            with("t-x", "aggregateType", json!("ticket/../order")),
            m,
            "ASCII letters",
        ),
        bad(
            "dotdot-aggregateType",
            with("t-x", "aggregateType", json!("..")),
            m,
            "ASCII letters",
        ),
        bad(
            "dotdot-slash-aggregateType",
            with("t-x", "aggregateType", json!("../config/ticket")),
            m,
            "ASCII letters",
        ),
        bad(
            "backslash-in-aggregateType",
            with("t-x", "aggregateType", json!("a\\b")),
            m,
            "ASCII letters",
        ),
        bad(
            "unicode-aggregateType",
            with("t-x", "aggregateType", json!("tíckét")),
            m,
            "ASCII letters",
        ),
        // Dots inside are allowed, so this one is only a type without a config.
        bad(
            "dots-inside-aggregateType",
            with("t-x", "aggregateType", json!("ticket..json")),
            "unknown_aggregate_type",
            "no config for aggregate type `ticket..json`",
        ),
        // Over-long strings (limits are in bytes).
        bad(
            "long-aggregateType",
            with(
                "t-x",
                "aggregateType",
                json!("t".repeat(MAX_AGGREGATE_TYPE_BYTES + 1)),
            ),
            m,
            &format!(
                "`aggregateType` is {} bytes, over the {MAX_AGGREGATE_TYPE_BYTES}-byte limit",
                MAX_AGGREGATE_TYPE_BYTES + 1
            ),
        ),
        bad(
            "long-aggregateId",
            with(
                "t-x",
                "aggregateId",
                json!("i".repeat(MAX_AGGREGATE_ID_BYTES + 1)),
            ),
            m,
            &format!(
                "`aggregateId` is {} bytes, over the {MAX_AGGREGATE_ID_BYTES}-byte limit",
                MAX_AGGREGATE_ID_BYTES + 1
            ),
        ),
        bad(
            "long-multibyte-aggregateId",
            // 300 characters, 600 bytes.
            with("t-x", "aggregateId", json!("é".repeat(300))),
            m,
            "`aggregateId` is 600 bytes",
        ),
        bad(
            "long-command",
            with("t-x", "command", json!("C".repeat(MAX_COMMAND_BYTES + 1))),
            m,
            &format!("over the {MAX_COMMAND_BYTES}-byte limit"),
        ),
        bad(
            "long-commandId",
            with(
                "t-x",
                "commandId",
                json!("c".repeat(MAX_COMMAND_ID_BYTES + 1)),
            ),
            m,
            &format!(
                "`commandId` is {} bytes, over the {MAX_COMMAND_ID_BYTES}-byte limit",
                MAX_COMMAND_ID_BYTES + 1
            ),
        ),
        // expectedVersion out of u64's range, or at its very end.
        bad(
            "expectedVersion-negative",
            with("t-x", "expectedVersion", json!(-1)),
            m,
            "expectedVersion: invalid value: a negative integer, expected a non-negative integer",
        ),
        bad(
            "expectedVersion-1e30",
            with_raw("t-x", "expectedVersion", "1e30"),
            m,
            "expectedVersion: invalid type: floating point",
        ),
        bad(
            "expectedVersion-2^64",
            with_raw("t-x", "expectedVersion", "18446744073709551616"),
            m,
            "expectedVersion: invalid type: floating point",
        ),
        bad(
            "expectedVersion-u64-max",
            with("t-u64-max", "expectedVersion", json!(u64::MAX)),
            "version_mismatch",
            &format!(
                "expected version {}, but the aggregate is at version 0",
                u64::MAX
            ),
        ),
        // Resource exhaustion.
        bad(
            "payload-nested-200-deep",
            deep,
            m,
            "recursion limit exceeded",
        ),
        bad(
            "body-over-256-KiB",
            huge_body,
            m,
            &format!("over the {MAX_BODY_BYTES}-byte limit"),
        ),
        bad(
            "item-over-400-KB",
            command(
                "ticket",
                "t-big",
                "Comment",
                json!({"text": "y".repeat(BIG_TEXT)}),
            )
            .body,
            "too_large",
            "over the store's 409600-byte item limit",
        ),
        // Parsed, but refused by the config.
        bad(
            "unknown-aggregate-type",
            with("s-1", "aggregateType", json!("spaceship")),
            "unknown_aggregate_type",
            "no config for aggregate type `spaceship`",
        ),
        bad(
            "unknown-command",
            with("t-unknown-cmd", "command", json!("Explode")),
            "unknown_command",
            "unknown command `Explode` for aggregate type `ticket`",
        ),
        bad(
            "command-wrong-case",
            with("t-case", "command", json!("openticket")),
            "unknown_command",
            "unknown command `openticket`",
        ),
        bad(
            "schema-missing-required",
            with("t-schema-1", "payload", json!({"note": SECRET})),
            "schema_violation",
            "payload of `OpenTicket` violates its schema: /: has a property the schema does not allow; /: must have the required properties \"title\"",
        ),
        bad(
            "schema-wrong-type",
            with(
                "t-schema-2",
                "payload",
                json!({"title": SECRET.len(), "note": SECRET}),
            ),
            "schema_violation",
            "/title: must satisfy type = \"string\"",
        ),
        bad(
            "schema-empty-string",
            with(
                "t-schema-3",
                "payload",
                json!({"title": "", "note": SECRET}),
            ),
            "schema_violation",
            "/title: must satisfy minLength = 1",
        ),
        bad(
            "schema-below-minimum",
            command(
                "order",
                "o-schema",
                "CreateOrder",
                json!({"itemId": SECRET, "quantity": 0}),
            )
            .body,
            "schema_violation",
            "/quantity: must satisfy minimum = 1",
        ),
        bad(
            "invalid-transition-skipping-a-state",
            command(
                "order",
                "o-given",
                "ProcessPayment",
                json!({"amount": 1, "currency": SECRET}),
            )
            .body,
            "invalid_transition",
            "command `ProcessPayment` is not allowed in state `Created` (allowed from: Reserved)",
        ),
        bad(
            "invalid-transition-before-open",
            command(
                "ticket",
                "t-never-opened",
                "Comment",
                json!({"text": SECRET}),
            )
            .body,
            "invalid_transition",
            "command `Comment` is not allowed in state `New` (allowed from: Open)",
        ),
        bad(
            "invalid-transition-open-twice",
            command("ticket", "t-given", "OpenTicket", json!({"title": SECRET})).body,
            "invalid_transition",
            "command `OpenTicket` is not allowed in state `Open`",
        ),
        bad(
            "command-id-reused-other-aggregate",
            with("t-reuse", "commandId", json!("given-open")),
            "command_id_reused",
            "commandId `given-open` was already applied to another command or payload (on ticket#t-given)",
        ),
        bad(
            "command-id-reused-other-payload",
            command("ticket", "t-given", "Comment", json!({"text": SECRET}))
                .with("commandId", json!("given-comment"))
                .body,
            "command_id_reused",
            "commandId `given-comment` was already applied",
        ),
        // The marker in every value position of a malformed message: the
        // reason names the field or path and the shape expected, never it.
        bad(
            "secret-as-expectedVersion",
            with("t-x", "expectedVersion", json!(SECRET)),
            m,
            "expectedVersion: invalid type: string, expected a non-negative integer",
        ),
        bad(
            "secret-negative-expectedVersion",
            with_raw("t-x", "expectedVersion", "-4111111111111111"),
            m,
            "expectedVersion: invalid value: a negative integer",
        ),
        bad(
            "secret-float-expectedVersion",
            with_raw("t-x", "expectedVersion", "4111.1111"),
            m,
            "expectedVersion: invalid type: floating point, expected a non-negative integer",
        ),
        bad(
            "secret-in-array-as-aggregateType",
            with("t-x", "aggregateType", json!([SECRET])),
            m,
            "aggregateType: invalid type: sequence, expected a string",
        ),
        bad(
            "secret-in-object-as-command",
            with("t-x", "command", json!({"name": SECRET})),
            m,
            "command: invalid type: map, expected a string",
        ),
        bad(
            "secret-number-as-commandId",
            with_raw("t-x", "commandId", "41111111111111111111"),
            m,
            "commandId: invalid type: floating point, expected a string",
        ),
        bad(
            "secret-as-unknown-field-value",
            with("t-x", "cardNumber", json!(SECRET)),
            m,
            "unknown field `cardNumber`",
        ),
        bad(
            "secret-in-aggregateId-with-hash",
            with("t-x", "aggregateId", json!(format!("{SECRET}#1"))),
            m,
            "`aggregateId` contains '#'",
        ),
        bad(
            "secret-in-aggregateId-with-newline",
            with("t-x", "aggregateId", json!(format!("{SECRET}\n"))),
            m,
            "`aggregateId` contains a control character",
        ),
        bad(
            "secret-in-long-commandId",
            with("t-x", "commandId", json!(SECRET.repeat(20))),
            m,
            "`commandId` is 320 bytes, over the 256-byte limit",
        ),
        bad(
            "secret-before-a-syntax-error",
            with_raw("t-x", "payload", &format!("{{\"note\":\"{SECRET}\" 4111}}")),
            m,
            "expected `,` or `}` at line 1",
        ),
        bad(
            "secret-unterminated",
            with_raw("t-x", "payload", &format!("{{\"note\":\"{SECRET}")),
            m,
            "EOF while parsing",
        ),
        bad(
            "secret-bare-word",
            with_raw("t-x", "payload", &format!("{{\"note\":{SECRET}}}")),
            m,
            "expected value at line 1",
        ),
        bad(
            "secret-after-the-object",
            format!("{valid} \"{SECRET}\""),
            m,
            "trailing characters",
        ),
        // An unknown member is named by its key, with control and format
        // characters escaped, so the reason cannot forge a line or reorder text.
        bad(
            "unknown-field-with-newline-and-bidi",
            with("t-x", "a\nb\u{202E}c", json!(SECRET)),
            m,
            r"unknown field `a\u{a}b\u{202e}c`",
        ),
        // Numbers past 2^53 (RFC 7493): refused by their path, not rounded.
        bad(
            "number-past-2^53-in-payload",
            with(
                "t-x",
                "payload",
                json!({"title": "t", "amount": 4_111_111_111_111_111_111_u64}),
            ),
            m,
            "`/payload/amount` holds a number beyond ±(2^53 − 1)",
        ),
        bad(
            "number-just-past-2^53",
            with_raw(
                "t-x",
                "payload",
                r#"{"title":"t","n":[1,9007199254740992]}"#,
            ),
            m,
            "`/payload/n/1` holds a number beyond",
        ),
        bad(
            "negative-number-past-2^53",
            with_raw("t-x", "payload", r#"{"title":"t","n":-9007199254740992}"#),
            m,
            "`/payload/n` holds a number beyond",
        ),
        bad(
            "number-past-2^64-in-payload",
            with_raw(
                "t-x",
                "payload",
                r#"{"title":"t","deep":{"x":[{"y":41111111111111111111111}]}}"#,
            ),
            m,
            "`/payload/deep/x/0/y` holds a number beyond",
        ),
        bad(
            "huge-float-in-payload",
            with_raw("t-x", "payload", r#"{"title":"t","n":4.111e300}"#),
            m,
            "`/payload/n` holds a number beyond",
        ),
        bad(
            "number-past-2^53-in-metadata",
            with_raw("t-x", "metadata", r#"{"trace":[41111111111111111]}"#),
            m,
            "`/metadata/trace/0` holds a number beyond",
        ),
        // Invisible characters in ids: named by code point, never shown.
        bad(
            "bidi-override-in-aggregateId",
            with("t-x", "aggregateId", json!(format!("t-1\u{202E}{SECRET}"))),
            m,
            "`aggregateId` contains U+202E, an invisible format character (Unicode category Cf)",
        ),
        bad(
            "bidi-isolate-in-aggregateId",
            with("t-x", "aggregateId", json!("t-\u{2066}1\u{2069}")),
            m,
            "`aggregateId` contains U+2066",
        ),
        bad(
            "zero-width-space-in-aggregateId",
            with("t-x", "aggregateId", json!("t\u{200B}-1")),
            m,
            "`aggregateId` contains U+200B",
        ),
        bad(
            "zero-width-joiner-in-command",
            with("t-x", "command", json!("Open\u{200D}Ticket")),
            m,
            "`command` contains U+200D",
        ),
        bad(
            "rtl-mark-in-commandId",
            with("t-x", "commandId", json!("c-1\u{200F}")),
            m,
            "`commandId` contains U+200F",
        ),
        bad(
            "bom-in-commandId",
            with("t-x", "commandId", json!("\u{FEFF}c-1")),
            m,
            "`commandId` contains U+FEFF",
        ),
        bad(
            "bidi-in-aggregateType",
            with("t-x", "aggregateType", json!("ticket\u{202D}")),
            m,
            "`aggregateType` contains U+202D",
        ),
        bad(
            "line-separator-in-aggregateId",
            with("t-x", "aggregateId", json!("t-1\u{2028}t-2")),
            m,
            "`aggregateId` contains U+2028, a line or paragraph separator",
        ),
        bad(
            "tag-character-in-aggregateId",
            with("t-x", "aggregateId", json!("t-1\u{E0041}")),
            m,
            "`aggregateId` contains U+E0041",
        ),
    ]
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
        batch.push(raw(case.body.clone()).id(case.name));
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

    let mut failed: Vec<&str> = table.iter().map(|c| c.name).collect();
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
        let stored = handler_core::FailureLog::failure(store, case.name)
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
                .map(|c| raw(c.body.clone()).id(c.name))
                .collect(),
        )
        .await;
    for case in &table {
        let failure = then.failure(case.name);
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
