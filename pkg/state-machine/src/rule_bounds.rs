//! The bounds on a rule (docs/reference.md §2), checked when it compiles,
//! and the cap on what one evaluation may give back.
//!
//! datalogic-rs itself bounds only re-entry through custom operators (none
//! are registered here), so the bounds are ours: a rule's size and depth are
//! capped; an iterating operator (`map`, `filter`, `reduce`, `all`, `some`,
//! `none`, `sort`, `group_by`) may not iterate again inside its body, nor
//! reach the outer context with `val` or with a `var`/`exists` path that is
//! not a literal (`[[1], "payload"]` jumps scopes); and a `reduce` body may use only
//! operators whose result is no bigger than their arguments, so an
//! accumulator cannot double at each step. With these, the work and memory
//! of one evaluation grow at most with (rule nodes) x (context size), and
//! the result is refused past [`MAX_RESULT_BYTES`].

use std::io;

use serde_json::Value;

/// Most nodes (operators, literals, array items) in one rule.
pub(crate) const MAX_NODES: usize = 64;
/// Deepest nesting of operators in one rule.
pub(crate) const MAX_DEPTH: usize = 16;
/// Largest result of one rule, serialized as JSON.
pub(crate) const MAX_RESULT_BYTES: usize = 64 * 1024;

const ITERATING: &[&str] = &[
    "map", "filter", "reduce", "all", "some", "none", "sort", "group_by",
];

/// What a `reduce` body may use: operators that give back a scalar or one of
/// their arguments, never something built bigger.
const SCALAR: &[&str] = &[
    "var",
    "==",
    "===",
    "!=",
    "!==",
    ">",
    ">=",
    "<",
    "<=",
    "!",
    "!!",
    "and",
    "or",
    "if",
    "+",
    "-",
    "*",
    "/",
    "%",
    "max",
    "min",
    "abs",
    "ceil",
    "floor",
    "??",
    "exists",
    "length",
    "in",
    "type",
    "starts_with",
    "ends_with",
];

/// Operators that read the context by a path: inside an iterating body the
/// path must be a literal (a string, a number or null), so that no `[[1],
/// ...]` scope jump nor computed path reaches the outer context.
const READING: &[&str] = &["var", "exists"];

/// True when the path of `var`/`exists` (the argument, or the first item of
/// an argument list; a `var` default may be anything) is a literal.
fn literal_path(args: &Value) -> bool {
    let first = match args {
        Value::Array(items) => match items.first() {
            Some(first) => first,
            None => return true,
        },
        other => other,
    };
    matches!(first, Value::String(_) | Value::Number(_) | Value::Null)
}

/// Where a node sits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    /// Not inside an iterating operator's body.
    Top,
    /// Inside the body of `map`, `filter`, ...
    Body,
    /// Inside a `reduce` body.
    Reduce,
}

/// Checks the bounds of a rule (its operators already known).
pub(crate) fn check(value: &Value) -> Result<(), String> {
    let mut nodes = 0;
    walk(value, 1, Within::Top, &mut nodes)
}

fn walk(value: &Value, depth: usize, within: Within, nodes: &mut usize) -> Result<(), String> {
    *nodes += 1;
    if *nodes > MAX_NODES {
        return Err(format!("is too big a rule (over {MAX_NODES} nodes)"));
    }
    if depth > MAX_DEPTH {
        return Err(format!("nests too deep (over {MAX_DEPTH} levels)"));
    }
    match value {
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| walk(item, depth + 1, within, nodes)),
        Value::Object(map) => {
            let Some((name, args)) = map.iter().next() else {
                return Ok(());
            };
            let name = name.as_str();
            if within == Within::Reduce && !SCALAR.contains(&name) {
                return Err(format!(
                    "uses `{name}` inside a `reduce` body, where only operators that build \
                     nothing bigger than their arguments are allowed"
                ));
            }
            if within != Within::Top && (ITERATING.contains(&name) || name == "val") {
                return Err(format!(
                    "uses `{name}` inside the body of an iterating operator (one level of \
                     iteration, and no `val`, in a body)"
                ));
            }
            if within != Within::Top && READING.contains(&name) && !literal_path(args) {
                return Err(format!(
                    "uses `{name}` with a path that is not a literal inside the body of an \
                     iterating operator (a computed or array path can reach the outer context)"
                ));
            }
            if !ITERATING.contains(&name) {
                return walk(args, depth + 1, within, nodes);
            }
            let body = if name == "reduce" {
                Within::Reduce
            } else {
                Within::Body
            };
            match args {
                Value::Array(items) => items.iter().enumerate().try_for_each(|(k, item)| {
                    walk(item, depth + 1, if k == 0 { within } else { body }, nodes)
                }),
                other => walk(other, depth + 1, within, nodes),
            }
        }
        _ => Ok(()),
    }
}

/// True when `value` serializes to at most [`MAX_RESULT_BYTES`]; stops
/// counting at the cap, so a huge value costs no more than the cap.
pub(crate) fn fits(value: &Value) -> bool {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).is_ok()
}

struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        if self.0 > MAX_RESULT_BYTES {
            return Err(io::Error::other("over the cap"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_rules_pass() {
        check(&json!({">=": [{"var": "data.stock"}, {"var": "payload.quantity"}]})).unwrap();
        check(&json!({"map": [{"var": "payload.items"}, {"cat": ["sku-", {"var": ""}]}]})).unwrap();
        check(&json!({"reduce": [{"var": "payload.items"},
            {"+": [{"var": "accumulator"}, {"var": "current.quantity"}]}, 0]}))
        .unwrap();
    }

    #[test]
    fn growth_and_size_are_refused() {
        let doubling = json!({"reduce": [{"var": "payload.items"},
            {"cat": [{"var": "accumulator"}, {"var": "accumulator"}]}, "x"]});
        assert!(
            check(&doubling)
                .unwrap_err()
                .contains("`cat` inside a `reduce`")
        );
        let nested = json!({"map": [{"var": "payload.a"}, {"map": [{"var": "payload.a"}, 1]}]});
        assert!(
            check(&nested)
                .unwrap_err()
                .contains("`map` inside the body")
        );
        let mut deep = json!(1);
        for _ in 0..MAX_DEPTH {
            deep = json!({"!": [deep]});
        }
        assert!(check(&deep).unwrap_err().contains("too deep"));
        let wide = json!({"cat": vec![json!({"var": "payload.s"}); MAX_NODES]});
        assert!(check(&wide).unwrap_err().contains("too big"));
    }

    #[test]
    fn a_body_reads_only_by_a_literal_path() {
        // Allowed: the item, a field of it, a default.
        check(&json!({"some": [{"var": "payload.xs"}, {"==": [{"var": ""}, 1]}]})).unwrap();
        check(&json!({"all": [{"var": "payload.xs"}, {"var": ["ok", false]}]})).unwrap();
        check(&json!({"map": [{"var": "payload.xs"}, {"var": 0}]})).unwrap();
        // Outside a body a computed path is fine.
        check(&json!({"var": {"cat": ["payload.", "x"]}})).unwrap();
        // The bypass: a scope jump or a computed path inside a body.
        for rule in [
            json!({"some": [{"var": "payload.xs"},
                {"in": [{"var": ""}, {"var": [[1], "payload", "ys"]}]}]}),
            json!({"all": [{"var": "payload.xs"}, {"var": [{"cat": ["payload", ".ys"]}]}]}),
            json!({"map": [{"var": "payload.xs"}, {"var": {"var": ""}}]}),
            json!({"filter": [{"var": "payload.xs"}, {"exists": [[1], "payload"]}]}),
        ] {
            let err = check(&rule).unwrap_err();
            assert!(err.contains("not a literal"), "{rule}: {err}");
        }
    }

    #[test]
    fn the_result_cap_counts_serialized_bytes() {
        assert!(fits(&json!("x".repeat(MAX_RESULT_BYTES - 2))));
        assert!(!fits(&json!("x".repeat(MAX_RESULT_BYTES))));
    }
}
