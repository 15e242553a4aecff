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
//! the result is refused past [`MAX_RESULT_BYTES`]. Inside a body, `var` and
//! `exists` take only a literal path (a computed one, or `[[1], ...]`, would
//! read the outer context and make one evaluation quadratic).
//!
//! datalogic-rs has no step or time budget, so the budget is ours too: a
//! rule's static [`Cost`] (its nodes, with sorting and quadratic operators
//! apart) is computed when it compiles, the context's [`size`] once per
//! evaluation context, and an evaluation whose [`Cost::steps`] is over
//! [`MAX_STEPS`] is refused before it starts.

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

/// Operators whose work grows with the square of what they read: datalogic's
/// `distinct` and `group_by` compare each item with those kept (its values
/// have no hash), and `missing`/`missing_some` look each key up by a scan of
/// the object.
const QUADRATIC: &[&str] = &["distinct", "group_by", "missing", "missing_some"];

/// Operators that sort: n log n comparisons.
const SORTING: &[&str] = &["sort"];

/// Operators that read a path, and whose path must therefore be a literal
/// inside an iterating operator's body: a computed path, or one that starts
/// with a `[level]` array, would reach the outer context.
const PATH_READERS: &[&str] = &["var", "exists"];

/// Most steps one evaluation may take, counted as [`Cost::steps`] does: the
/// rule's static cost times the size of its context. An evaluation over it
/// is refused before it starts.
pub(crate) const MAX_STEPS: u64 = 1 << 24;

/// The static cost of a rule, computed once when it compiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Nodes whose work is at most linear in the context.
    pub(crate) linear: u64,
    /// Sorting nodes (n log n).
    pub(crate) sorting: u64,
    /// Nodes whose work is quadratic in what they read.
    pub(crate) quadratic: u64,
}

impl Cost {
    /// An upper bound of the steps of one evaluation against a context of
    /// `size` (see [`size`]), saturating.
    pub(crate) fn steps(&self, size: u64) -> u64 {
        let log = u64::from(u64::BITS - size.leading_zeros()).max(1);
        self.linear
            .saturating_mul(size)
            .saturating_add(self.sorting.saturating_mul(size).saturating_mul(log))
            .saturating_add(self.quadratic.saturating_mul(size.saturating_mul(size)))
    }
}

/// The size of a context for [`Cost::steps`]: one per JSON value (object
/// keys included) plus one per byte of its strings, counted up to `cap`
/// (a larger one gives `cap + 1`), so counting costs at most `cap` steps.
pub(crate) fn size(value: &Value, cap: u64) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        total = total.saturating_add(1);
        match value {
            Value::String(s) => total = total.saturating_add(s.len() as u64),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                for (key, item) in map {
                    total = total.saturating_add(1 + key.len() as u64);
                    stack.push(item);
                }
            }
            _ => {}
        }
        if total > cap {
            return cap + 1;
        }
    }
    total
}

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

/// Checks the bounds of a rule (its operators already known) and gives its
/// static cost.
pub(crate) fn check(value: &Value) -> Result<Cost, String> {
    let mut nodes = 0;
    let mut cost = Cost::default();
    walk(value, 1, Within::Top, &mut nodes, &mut cost)?;
    Ok(cost)
}

/// True for a literal path: a string, a number or null.
fn literal_path(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Null)
}

/// Refuses, inside a body, a `var` or `exists` whose path is not literal.
fn literal_paths(name: &str, args: &Value) -> Result<(), String> {
    let literal = match (name, args) {
        ("var", Value::Array(items)) => items.first().is_none_or(literal_path),
        ("exists", Value::Array(items)) => items.iter().all(Value::is_string),
        (_, other) => literal_path(other),
    };
    if literal {
        return Ok(());
    }
    Err(format!(
        "uses `{name}` with a path that is not a literal string or number inside the body \
         of an iterating operator (it could read the outer context)"
    ))
}

fn walk(
    value: &Value,
    depth: usize,
    within: Within,
    nodes: &mut usize,
    cost: &mut Cost,
) -> Result<(), String> {
    *nodes += 1;
    cost.linear += 1;
    if *nodes > MAX_NODES {
        return Err(format!("is too big a rule (over {MAX_NODES} nodes)"));
    }
    if depth > MAX_DEPTH {
        return Err(format!("nests too deep (over {MAX_DEPTH} levels)"));
    }
    match value {
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| walk(item, depth + 1, within, nodes, cost)),
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
            if within != Within::Top && PATH_READERS.contains(&name) {
                literal_paths(name, args)?;
            }
            if QUADRATIC.contains(&name) {
                cost.quadratic += 1;
            }
            if SORTING.contains(&name) {
                cost.sorting += 1;
            }
            if !ITERATING.contains(&name) {
                return walk(args, depth + 1, within, nodes, cost);
            }
            let body = if name == "reduce" {
                Within::Reduce
            } else {
                Within::Body
            };
            match args {
                Value::Array(items) => items.iter().enumerate().try_for_each(|(k, item)| {
                    walk(
                        item,
                        depth + 1,
                        if k == 0 { within } else { body },
                        nodes,
                        cost,
                    )
                }),
                other => walk(other, depth + 1, within, nodes, cost),
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
    fn a_body_reads_only_literal_paths() {
        for outer in [
            json!({"var": [[1], "payload", "ys"]}),
            json!({"var": {"cat": ["payload", ".ys"]}}),
            json!({"var": [{"var": "k"}, 0]}),
            json!({"exists": [[1], "payload"]}),
        ] {
            let rule = json!({"some": [{"var": "payload.xs"},
                {"in": [{"var": ""}, outer.clone()]}]});
            let err = check(&rule).unwrap_err();
            assert!(
                err.contains("not a literal string or number"),
                "{outer}: {err}"
            );
        }
        check(&json!({"some": [{"var": "payload.xs"},
            {"and": [{"var": "a"}, {"var": ["b", 0]}, {"var": 1}, {"exists": ["a", "b"]}]}]}))
        .unwrap();
        check(&json!({"var": [[1], "payload"]})).unwrap();
    }

    #[test]
    fn the_cost_weighs_sorting_and_quadratic_operators() {
        let cost = check(&json!({"distinct": {"sort": [{"var": "payload.xs"}]}})).unwrap();
        assert_eq!(
            cost,
            Cost {
                linear: 4,
                sorting: 1,
                quadratic: 1
            }
        );
        assert_eq!(cost.steps(1024), 4 * 1024 + 1024 * 11 + 1024 * 1024);
        assert_eq!(cost.steps(u64::MAX), u64::MAX);
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
