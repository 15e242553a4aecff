//! `pattern` runs on a linear-time engine: the worst patterns one can write, over a
//! string near the 256 KiB body limit, are judged by their result, and a pattern that
//! would need backtracking is a config fault. The figures (time per validation) are
//! printed: `cargo test -p state-machine --release --test it pattern_limits -- --nocapture
//! --test-threads=1`.

use std::time::Instant;

use serde_json::{Value, json};
use state_machine::{Rejection, StateMachine};

use crate::{contract_example, machine, obj, refused};

/// Just under the 256 KiB a body may hold, leaving room for the envelope.
const NEAR_256_KB: usize = 255 * 1024;

/// Patterns that make a backtracking engine take exponential (or high polynomial) time
/// on a long run of `a`s that ends in a character they cannot match.
const WORST_LINEAR_PATTERNS: &[&str] = &[
    "^(a+)+$",
    "(a|aa)*c",
    "^((a*)*)*$",
    "^(a|a?)+$",
    "^(a*)*b$",
    "(a+a+)+b",
    "^(\\w+\\s?)*$",
    "^([a-z]+)*[0-9]{1000}$",
];

/// Patterns only a backtracking engine can run.
const BACKTRACKING_PATTERNS: &[&str] = &[
    "^(a|a)*\\1b$",
    "^(a+)\\1$",
    "^(?=(a+)+b)",
    "^(?!a)",
    "(?<=a)b",
    "(?<!a)b",
];

fn order_with_item_pattern(pattern: &str) -> Value {
    let mut config = contract_example();
    config["transitions"][0]["payloadSchema"]["properties"]["itemId"]["pattern"] = json!(pattern);
    config
}

fn a_run(len: usize, last: char) -> String {
    let mut s = "a".repeat(len - 1);
    s.push(last);
    s
}

#[test]
fn a_pattern_that_needs_backtracking_is_a_config_fault_naming_where_it_is() {
    for pattern in BACKTRACKING_PATTERNS {
        let faults = refused(&order_with_item_pattern(pattern));
        assert_eq!(faults.len(), 1, "{pattern}: {faults:#?}");
        assert_eq!(faults[0].path, "transitions[0].payloadSchema", "{pattern}");
        let message = &faults[0].message;
        assert!(
            message.contains("at /properties/itemId/pattern")
                && message.contains("linear-time engine"),
            "{pattern}: {message}"
        );
    }

    // The same in `patternProperties`, deeper in the schema and in another transition.
    let mut config = contract_example();
    config["transitions"][1]["payloadSchema"] = json!({
        "type": "object",
        "properties": { "notes": { "patternProperties": { "^(?=x)": { "type": "string" } } } }
    });
    let faults = refused(&config);
    assert_eq!(faults.len(), 1, "{faults:#?}");
    assert_eq!(faults[0].path, "transitions[1].payloadSchema");
    assert!(
        faults[0]
            .message
            .contains("at /properties/notes/patternProperties"),
        "{faults:#?}"
    );
}

#[test]
fn the_worst_linear_patterns_judge_a_256_kb_string_by_their_result() {
    for pattern in WORST_LINEAR_PATTERNS {
        let m = machine(&order_with_item_pattern(pattern));
        // A near miss: a long run of `a`s ending in `!`, which none of them matches.
        let payload = obj(json!({ "itemId": a_run(NEAR_256_KB, '!'), "quantity": 1 }));
        let started = Instant::now();
        let decided = m.decide(&m.initial_state(), "CreateOrder", &payload);
        let elapsed = started.elapsed();
        println!("linear engine, `{pattern}`, {NEAR_256_KB} bytes, no match: {elapsed:?}");
        match decided {
            Err(Rejection::SchemaViolation { errors, .. }) => {
                let want = format!("/itemId: must satisfy pattern = {}", json!(pattern));
                assert_eq!(errors[0], want, "{errors:?}");
            }
            other => panic!("`{pattern}`: expected a schema violation, got {other:?}"),
        }
    }

    // And a long string that matches is accepted.
    let m = machine(&order_with_item_pattern("^(a+)+$"));
    let payload = obj(json!({ "itemId": "a".repeat(NEAR_256_KB), "quantity": 1 }));
    let started = Instant::now();
    let decided = m.decide(&m.initial_state(), "CreateOrder", &payload);
    println!(
        "linear engine, `^(a+)+$`, {NEAR_256_KB} bytes, match: {:?}",
        started.elapsed()
    );
    decided.expect("a run of `a`s matches `^(a+)+$`");
}

/// What the engine the crate no longer uses does with the same input: jsonschema's
/// default, `fancy-regex`, backtracks up to a step limit per match and then fails the
/// value with an error. Kept as a test so that the figures are measured the same way.
#[test]
fn the_backtracking_engine_it_replaces_stops_only_at_its_step_limit() {
    let cases = [
        ("^(a|a)*\\1b$", None),
        ("^(a|a)*\\1b$", Some(10_000)),
        ("^(?=(a+)+b)", None),
        ("^(a+)+$", None),
    ];
    for (pattern, limit) in cases {
        let schema = json!({ "type": "string", "pattern": pattern });
        let engine = match limit {
            None => jsonschema::PatternOptions::fancy_regex(),
            Some(limit) => jsonschema::PatternOptions::fancy_regex().backtrack_limit(limit),
        };
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_pattern_options(engine)
            .build(&schema)
            .expect("fancy-regex compiles it");
        let instance = json!(a_run(NEAR_256_KB, '!'));
        let started = Instant::now();
        let valid = validator.is_valid(&instance);
        println!(
            "fancy-regex (backtrack limit {}), `{pattern}`, {NEAR_256_KB} bytes, no match: {:?}",
            limit.map_or_else(|| "default 1,000,000".to_owned(), |l| l.to_string()),
            started.elapsed()
        );
        assert!(!valid, "`{pattern}` refuses a run of `a`s ending in `!`");
    }
}

#[test]
fn a_payload_with_many_errors_reports_the_first_few() {
    let mut config = contract_example();
    config["transitions"][0]["payloadSchema"] = json!({
        "type": "object",
        "properties": { "items": { "type": "array", "items": { "type": "string", "pattern": "^(a+)+$" } } }
    });
    let m = machine(&config);
    // About 85,000 integers where strings are required: one error each.
    let items: Vec<Value> = (0..NEAR_256_KB / 3).map(|i| json!(i % 10)).collect();
    let payload = obj(json!({ "items": items }));
    let started = Instant::now();
    let decided = m.decide(&m.initial_state(), "CreateOrder", &payload);
    println!(
        "schema errors, {} failing items in a {NEAR_256_KB}-byte payload: {:?}",
        NEAR_256_KB / 3,
        started.elapsed()
    );
    let Err(Rejection::SchemaViolation { errors, .. }) = decided else {
        panic!("expected a schema violation");
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0], "/items/0: must satisfy type = \"string\"");
    assert!(
        errors[1].starts_with("... (only the first error"),
        "{errors:?}"
    );
}

#[test]
fn the_machine_from_bytes_refuses_a_backreference_too() {
    let bytes = serde_json::to_vec(&order_with_item_pattern("(x)\\1")).expect("serializable");
    let err = StateMachine::from_json(&bytes).expect_err("refused");
    assert!(err.to_string().contains("linear-time engine"), "{err}");
}
