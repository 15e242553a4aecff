//! Property tests of the envelope parser: no input makes `parse_command`
//! panic, and whatever it accepts satisfies the envelope's invariants
//! (docs/reference.md §1). The config parser has its own in
//! `pkg/state-machine/tests/it/never_panics.rs`.

use handler_core::envelope::{
    MAX_AGGREGATE_ID_BYTES, MAX_AGGREGATE_TYPE_BYTES, MAX_BODY_BYTES, MAX_COMMAND_BYTES,
    MAX_COMMAND_ID_BYTES, MAX_SAFE_INTEGER,
};
use handler_core::{Command, EnvelopeError, parse_command};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use unicode_general_category::{GeneralCategory, get_general_category};

const MESSAGE_ID: &str = "msg-prop-1";

/// Strings that stress the field checks: empty, blank, `#`, control
/// characters, paths, non-ASCII, and lengths around each limit.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z0-9_.-]{1,12}",
        2 => any::<String>(),
        1 => Just(String::new()),
        1 => Just("   ".to_owned()),
        1 => Just("a#b".to_owned()),
        1 => Just("#cmd#x".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just("ticket/../order".to_owned()),
        1 => Just("t\u{0}".to_owned()),
        1 => Just("t\n".to_owned()),
        1 => Just("\u{1b}[0m".to_owned()),
        1 => Just("t\u{85}".to_owned()),
        1 => Just("é✓🎫".to_owned()),
        1 => prop::sample::select(vec!['\u{202E}', '\u{200B}', '\u{2066}', '\u{FEFF}', '\u{2028}', '\u{AD}'])
            .prop_map(|c| format!("t{c}1")),
        1 => prop::sample::select(vec![
            MAX_AGGREGATE_TYPE_BYTES,
            MAX_COMMAND_ID_BYTES,
            MAX_AGGREGATE_ID_BYTES,
        ])
        .prop_flat_map(|n| (n - 1..=n + 1).prop_map(|len| "x".repeat(len))),
        1 => (0..300usize).prop_map(|n| "é".repeat(n)),
    ]
}

/// Numbers serde_json can hold, including the awkward ones.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        Just(Value::from(1e300)),
        Just(Value::from(-0.0)),
        Just(Value::from(MAX_SAFE_INTEGER)),
        Just(Value::from(MAX_SAFE_INTEGER + 1)),
    ]
}

/// An arbitrary JSON value: recursive, with unicode, control characters and
/// big numbers.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        tricky_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(tricky_string(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value nested `depth` levels deep in arrays and objects, as text
/// (serde_json's parser stops at 128 levels).
fn deep_text() -> impl Strategy<Value = String> {
    (0..400usize, any::<bool>()).prop_map(|(depth, objects)| {
        if objects {
            format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
        } else {
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
        }
    })
}

const FIELDS: [&str; 7] = [
    "commandId",
    "aggregateType",
    "aggregateId",
    "command",
    "payload",
    "expectedVersion",
    "metadata",
];

/// A field's value: plausible for it, or anything at all.
fn field_value(field: &'static str) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match field {
        "payload" | "metadata" => prop::collection::btree_map(tricky_string(), json_value(), 0..4)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
        "expectedVersion" => prop_oneof![
            (0..5u64).prop_map(Value::from),
            Just(Value::from(u64::MAX)),
            Just(Value::Null),
        ]
        .boxed(),
        "aggregateType" => prop_oneof![
            2 => prop::sample::select(vec!["order", "ticket", "a.b-c_d"]).prop_map(Value::from),
            1 => tricky_string().prop_map(Value::from),
        ]
        .boxed(),
        _ => prop_oneof![
            3 => "[a-zA-Z0-9_.-]{1,12}".prop_map(Value::from),
            1 => tricky_string().prop_map(Value::from),
        ]
        .boxed(),
    };
    prop_oneof![9 => plausible, 1 => json_value()].boxed()
}

/// An object shaped like the envelope: each field present (with a plausible
/// or arbitrary value) or absent, sometimes with an extra field.
fn envelope() -> impl Strategy<Value = Map<String, Value>> {
    let fields: Vec<_> = FIELDS
        .iter()
        .map(|&f| prop::option::weighted(0.9, field_value(f)))
        .collect();
    (
        fields,
        prop::option::weighted(0.1, (tricky_string(), json_value())),
    )
        .prop_map(|(values, extra)| {
            let mut map = Map::new();
            for (field, value) in FIELDS.iter().zip(values) {
                if let Some(v) = value {
                    map.insert((*field).to_owned(), v);
                }
            }
            if let Some((k, v)) = extra {
                map.insert(k, v);
            }
            map
        })
}

/// A control, format (Cf) or separator (Zl, Zp) character: none is accepted in an id.
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            get_general_category(c),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
        )
}

/// Whether a value holds, at any depth, a number past ±(2^53 − 1).
fn has_unsafe_number(value: &Value) -> bool {
    match value {
        Value::Number(n) => n
            .as_f64()
            .is_some_and(|f| f.abs() > MAX_SAFE_INTEGER as f64),
        Value::Array(items) => items.iter().any(has_unsafe_number),
        Value::Object(map) => map.values().any(has_unsafe_number),
        _ => false,
    }
}

/// The invariants of every accepted command.
fn check_accepted(cmd: &Command) -> Result<(), TestCaseError> {
    let t = &cmd.key.aggregate_type;
    prop_assert!(
        !t.is_empty() && t.len() <= MAX_AGGREGATE_TYPE_BYTES,
        "{t:?}"
    );
    prop_assert!(t.starts_with(|c: char| c.is_ascii_alphanumeric()), "{t:?}");
    prop_assert!(
        t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')),
        "{t:?}"
    );
    for (name, value, max, key_part) in [
        (
            "aggregateId",
            &cmd.key.aggregate_id,
            MAX_AGGREGATE_ID_BYTES,
            true,
        ),
        ("command", &cmd.command, MAX_COMMAND_BYTES, false),
    ] {
        prop_assert!(!value.is_empty(), "{name} empty");
        prop_assert!(value.len() <= max, "{name} too long");
        prop_assert!(!value.chars().any(is_invisible), "{name}: {value:?}");
        prop_assert!(!key_part || !value.contains('#'), "{name}: {value:?}");
    }
    for object in [&cmd.payload, &cmd.metadata] {
        prop_assert!(!has_unsafe_number(&Value::Object(object.clone())));
    }
    Ok(())
}

/// When `parse_command` accepts an envelope-shaped object, it took what the
/// object says.
fn check_against(map: &Map<String, Value>, cmd: &Command) -> Result<(), TestCaseError> {
    check_accepted(cmd)?;
    prop_assert_eq!(
        Some(&Value::from(cmd.key.aggregate_type.clone())),
        map.get("aggregateType")
    );
    prop_assert_eq!(
        Some(&Value::from(cmd.key.aggregate_id.clone())),
        map.get("aggregateId")
    );
    prop_assert_eq!(Some(&Value::from(cmd.command.clone())), map.get("command"));
    match map.get("commandId") {
        None | Some(Value::Null) => prop_assert_eq!(&cmd.command_id, MESSAGE_ID),
        Some(given) => {
            prop_assert_eq!(&Value::from(cmd.command_id.clone()), given);
            prop_assert!(!cmd.command_id.is_empty());
            prop_assert!(cmd.command_id.len() <= MAX_COMMAND_ID_BYTES);
            prop_assert!(!cmd.command_id.chars().any(is_invisible));
        }
    }
    for (field, parsed) in [("payload", &cmd.payload), ("metadata", &cmd.metadata)] {
        match map.get(field) {
            None | Some(Value::Null) => prop_assert!(parsed.is_empty()),
            Some(given) => prop_assert_eq!(&Value::Object(parsed.clone()), given),
        }
    }
    match map.get("expectedVersion") {
        None | Some(Value::Null) => prop_assert_eq!(cmd.expected_version, None),
        Some(given) => prop_assert_eq!(cmd.expected_version, given.as_u64()),
    }
    for key in map.keys() {
        prop_assert!(
            FIELDS.contains(&key.as_str()),
            "unknown field {key} accepted"
        );
    }
    Ok(())
}

/// Every refusal has a reason to show.
fn check_refused(e: &EnvelopeError) -> Result<(), TestCaseError> {
    prop_assert!(!e.to_string().is_empty());
    Ok(())
}

fn check(body: &str) -> Result<(), TestCaseError> {
    match parse_command(body, MESSAGE_ID) {
        Ok(cmd) => check_accepted(&cmd),
        Err(e) => check_refused(&e),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn json_like_soup_never_panics(body in r#"[\[\]{}":,0-9a-zA-Z\\ .eE+\-]{0,256}"#) {
        check(&body)?;
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        check(&value.to_string())?;
    }

    #[test]
    fn deep_nesting_never_panics(deep in deep_text(), in_payload in any::<bool>()) {
        let body = if in_payload {
            let head = r#"{"aggregateType":"t","aggregateId":"i","command":"C","payload":{"d":"#;
            format!("{head}{deep}}}}}")
        } else {
            deep
        };
        check(&body)?;
    }

    #[test]
    fn envelope_shaped_objects_never_panic_and_keep_the_invariants(map in envelope()) {
        let body = Value::Object(map.clone()).to_string();
        match parse_command(&body, MESSAGE_ID) {
            Ok(cmd) => check_against(&map, &cmd)?,
            Err(e) => check_refused(&e)?,
        }
    }

    /// DEFECT (see `tests/suite/bad_input.rs`): `parse_command` ignores
    /// what follows the first JSON value and takes an array for the
    /// envelope. Un-ignore once `envelope.rs` is fixed.
    #[test]
    fn accepted_bodies_are_exactly_one_json_object(
        map in envelope(),
        trailer in prop::sample::select(vec!["", " x", "{}", "]", "\n1"]),
        as_array in any::<bool>(),
    ) {
        let body = if as_array {
            let fields = FIELDS.iter().map(|f| map.get(*f).cloned().unwrap_or(Value::Null));
            Value::Array(fields.collect()).to_string()
        } else {
            format!("{}{trailer}", Value::Object(map.clone()))
        };
        if parse_command(&body, MESSAGE_ID).is_ok() {
            let one_object = serde_json::from_str::<Map<String, Value>>(&body);
            prop_assert!(one_object.is_ok(), "accepted: {}", body);
        }
    }

    #[test]
    fn a_valid_envelope_with_any_payload_parses(
        payload in prop::collection::btree_map(tricky_string(), json_value(), 0..6),
        command_id in prop::option::of("[a-z0-9-]{1,40}"),
    ) {
        let mut map = Map::new();
        map.insert("aggregateType".into(), "order".into());
        map.insert("aggregateId".into(), "o-1".into());
        map.insert("command".into(), "CreateOrder".into());
        map.insert("payload".into(), Value::Object(payload.into_iter().collect()));
        if let Some(id) = command_id {
            map.insert("commandId".into(), id.into());
        }
        let unsafe_number = has_unsafe_number(&map["payload"]);
        let cmd = parse_command(&Value::Object(map.clone()).to_string(), MESSAGE_ID);
        if unsafe_number {
            prop_assert!(
                matches!(cmd, Err(EnvelopeError::NumberOutOfRange { ref path }) if path.starts_with("/payload/")),
                "{:?}",
                cmd
            );
        } else {
            prop_assert!(cmd.is_ok(), "{:?}", cmd);
            check_against(&map, &cmd.unwrap())?;
        }
    }
}

/// Bodies just under, at and over the size limit: over it is refused before
/// parsing, at it is parsed.
#[test]
fn the_body_limit_is_exact() {
    let head = r#"{"aggregateType":"t","aggregateId":"i","command":"C","payload":{"x":""#;
    let tail = r#""}}"#;
    for size in [MAX_BODY_BYTES - 1, MAX_BODY_BYTES, MAX_BODY_BYTES + 1] {
        let body = format!("{head}{}{tail}", "a".repeat(size - head.len() - tail.len()));
        assert_eq!(body.len(), size);
        let got = parse_command(&body, MESSAGE_ID);
        if size > MAX_BODY_BYTES {
            assert!(
                matches!(got, Err(EnvelopeError::BodyTooLarge { .. })),
                "{size}"
            );
        } else {
            assert!(got.is_ok(), "{size}: {got:?}");
        }
    }
}
