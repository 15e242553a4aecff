//! Config values that are a literal or a JSON Logic rule, compiled once when
//! the config is loaded (through `datalogic-rs`) and evaluated against a
//! JSON context. Used by `then` (reactions); meant for guards and `set` too.
//!
//! A string, number, boolean or null is a literal and is taken as it is. An
//! object or an array is a rule: an object names one operator (`var`, `cat`,
//! `if`, `+`, ...: the core JSON Logic operators), an array is evaluated
//! item by item. An unknown operator fails at compile time.
//!
//! Bounds (size, depth, iteration, result size) and the evaluation budget
//! are in `rule_bounds`: an evaluation whose rule's static cost times its
//! context's size is over the budget fails as [`BUDGET_EXCEEDED`] before it
//! starts, so every caller (`guard`, `set`, `then`, `at`) is bounded.
//!
//! Evaluation errors never carry values: [`RuleError`] names the kind of
//! failure and the operator, nothing of the context.

use std::sync::{Arc, LazyLock};

use datalogic_rs::bumpalo::Bump;
use datalogic_rs::{
    DataValue, DivisionByZeroHandling, Engine, EvalInput, EvaluationConfig, FromDataValue, Logic,
    NumericCoercionConfig,
};

use crate::rule_bounds::{self, Cost};
use serde_json::Value;

/// The kind of a [`RuleError`] refused before it starts: its rule's cost
/// times the size of its context is over the evaluation budget.
pub(crate) const BUDGET_EXCEEDED: &str = "BudgetExceeded";

/// One engine for every rule: it holds no state between evaluations.
/// Division by zero is an error (a rule that cannot be evaluated), not
/// JavaScript's saturated sentinel; and a value that is not a number (a
/// missing one, `null`, a string, a boolean) is an error where a number is
/// needed, not a silent 0, so a guard on a missing value does not hold.
static ENGINE: LazyLock<Engine> = LazyLock::new(|| {
    Engine::builder()
        .with_config(
            EvaluationConfig::default()
                .with_division_by_zero(DivisionByZeroHandling::ThrowError)
                .with_numeric_coercion(
                    NumericCoercionConfig::default().with_reject_non_numeric(true),
                ),
        )
        .build()
});

/// A compiled config value.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// Taken as written.
    Literal(Value),
    /// A JSON Logic rule, with its static cost for the evaluation budget.
    Logic(Arc<Logic>, Cost),
}

/// Why a rule could not be evaluated. The text names the kind of failure
/// (and the operator when known), never a value of the context.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule failed ({kind}{})", operator.as_ref().map(|o| format!(" in `{o}`")).unwrap_or_default())]
pub(crate) struct RuleError {
    /// datalogic's error tag: `TypeError`, `InvalidArguments`, `Thrown`, ...
    pub(crate) kind: &'static str,
    /// The operator that failed, when known.
    pub(crate) operator: Option<String>,
}

impl Rule {
    /// Compiles `value`; the error is a message for a config fault (it may
    /// quote the config, which is not user data).
    pub(crate) fn compile(value: &Value) -> Result<Rule, String> {
        match value {
            Value::Object(_) | Value::Array(_) => {
                known_operators(value)?;
                let cost = rule_bounds::check(value)?;
                ENGINE
                    .compile(value)
                    .map(|logic| Rule::Logic(Arc::new(logic), cost))
                    .map_err(|err| format!("is not a valid JSON Logic rule: {err}"))
            }
            literal => Ok(Rule::Literal(literal.clone())),
        }
    }

    /// The value when it is a literal.
    pub(crate) fn literal(&self) -> Option<&Value> {
        match self {
            Rule::Literal(value) => Some(value),
            Rule::Logic(..) => None,
        }
    }

    /// The value against `context` (a literal needs none).
    pub(crate) fn evaluate(&self, context: &RuleContext<'_>) -> Result<Value, RuleError> {
        match self {
            Rule::Literal(value) => Ok(value.clone()),
            Rule::Logic(logic, cost) => {
                if cost.steps(context.size) > rule_bounds::MAX_STEPS {
                    return Err(RuleError {
                        kind: BUDGET_EXCEEDED,
                        operator: None,
                    });
                }
                let failed = |err: datalogic_rs::Error| RuleError {
                    kind: err.tag(),
                    operator: err.operator().map(str::to_owned),
                };
                let result = ENGINE
                    .evaluate(logic, context.data, context.arena)
                    .map_err(failed)?;
                let value = Value::from_arena(result).map_err(failed)?;
                if !rule_bounds::fits(&value) {
                    return Err(RuleError {
                        kind: "ResultTooLarge",
                        operator: None,
                    });
                }
                Ok(value)
            }
        }
    }
}

/// The JSON type of a value (`null`, `a number`, ...), to say what a rule
/// gave without quoting it.
pub(crate) fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Refuses an operator the engine does not have: datalogic compiles an
/// unknown name as a custom operator and fails only when it runs.
fn known_operators(value: &Value) -> Result<(), String> {
    match value {
        Value::Array(items) => items.iter().try_for_each(known_operators),
        Value::Object(map) if map.len() == 1 => {
            let Some((name, args)) = map.iter().next() else {
                return Ok(());
            };
            if !ENGINE.builtin_operator_names().any(|known| known == name) {
                return Err(format!("uses the unknown JSON Logic operator `{name}`"));
            }
            known_operators(args)
        }
        Value::Object(map) if !map.is_empty() => Err(format!(
            "an object in a rule must name exactly one operator, this one has {} keys",
            map.len()
        )),
        _ => Ok(()),
    }
}

/// The data rules read, converted once for all the rules evaluated against it.
pub(crate) struct RuleContext<'a> {
    arena: &'a Bump,
    data: &'a DataValue<'a>,
    /// The size of `data` for the budget (capped just over it).
    size: u64,
}

impl<'a> RuleContext<'a> {
    /// `data` in `arena`, and its size for the budget.
    pub(crate) fn new(data: &'a Value, arena: &'a Bump) -> Result<Self, RuleError> {
        let size = rule_bounds::size(data, rule_bounds::MAX_STEPS);
        let data = data.into_arena_value(arena).map_err(|err| RuleError {
            kind: err.tag(),
            operator: None,
        })?;
        Ok(Self { arena, data, size })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(rule: &Value, data: &Value) -> Result<Value, RuleError> {
        let arena = Bump::new();
        let context = RuleContext::new(data, &arena)?;
        Rule::compile(rule).expect("compiles").evaluate(&context)
    }

    #[test]
    fn literals_are_taken_as_written() {
        for literal in [json!("Reserve"), json!(3), json!(true), json!(null)] {
            let rule = Rule::compile(&literal).unwrap();
            assert_eq!(rule.literal(), Some(&literal));
            assert_eq!(eval(&literal, &json!({})).unwrap(), literal);
        }
    }

    #[test]
    fn rules_read_the_context() {
        let data = json!({"payload": {"itemId": "sku-1", "quantity": 2}});
        assert_eq!(
            eval(&json!({"var": "payload.itemId"}), &data).unwrap(),
            "sku-1"
        );
        assert_eq!(
            eval(&json!({"*": [{"var": "payload.quantity"}, 3]}), &data).unwrap(),
            json!(6)
        );
        assert_eq!(
            eval(
                &json!({"cat": ["stock-", {"var": "payload.itemId"}]}),
                &data
            )
            .unwrap(),
            "stock-sku-1"
        );
        assert_eq!(
            eval(&json!({"var": "payload.missing"}), &data).unwrap(),
            Value::Null
        );
    }

    #[test]
    fn missing_values_and_division_by_zero_are_errors_not_numbers() {
        let data = json!({"payload": {"n": 0, "s": "7"}});
        for rule in [
            json!({">=": [{"var": "payload.missing"}, 1]}),
            json!({"<": [{"var": "payload.missing"}, 1]}),
        ] {
            assert_eq!(
                eval(&rule, &data),
                Ok(json!(false)),
                "a missing value compares false: {rule}"
            );
        }
        for rule in [
            json!({"-": [{"var": "payload.missing"}, 1]}),
            json!({"/": [1, {"var": "payload.n"}]}),
            json!({"/": [1.5, {"var": "payload.n"}]}),
        ] {
            assert!(eval(&rule, &data).is_err(), "{rule}");
        }
    }

    #[test]
    fn an_unknown_operator_does_not_compile() {
        let err = Rule::compile(&json!({"no_such_op": [1]})).unwrap_err();
        assert!(err.contains("no_such_op"), "{err}");
    }

    #[test]
    fn an_object_names_exactly_one_operator() {
        let err = Rule::compile(&json!({"a": 1, "b": 2})).unwrap_err();
        assert!(err.contains("exactly one operator"), "{err}");
        assert_eq!(eval(&json!({}), &json!({})).unwrap(), json!({}));
    }

    #[test]
    fn an_error_never_quotes_the_context() {
        let data = json!({"payload": {"secret": "hunter2"}});
        let mut failed = 0;
        for rule in [
            json!({"+": [{"var": "payload.secret"}, 1]}),
            json!({"/": [{"var": "payload.secret"}, 0]}),
            json!({"substr": [{"var": "payload.secret"}, "x"]}),
            json!({"in": [{"var": "payload.secret"}, 3]}),
            json!({"map": [{"var": "payload.secret"}, {"var": ""}]}),
        ] {
            if let Err(err) = eval(&rule, &data) {
                failed += 1;
                assert!(!err.to_string().contains("hunter2"), "{err}");
            }
        }
        assert!(failed > 0, "some of these rules fail");
    }

    /// The operators docs/reference.md §2 lists, from its `**Operators**`
    /// paragraph.
    fn documented_operators() -> Vec<String> {
        let doc = include_str!("../../../docs/reference.md");
        let start = doc
            .find("- **Operators**")
            .expect("reference §2 has an Operators paragraph");
        let rest = &doc[start..];
        let paragraph = &rest[..rest[2..].find("\n- ").map_or(rest.len(), |end| end + 2)];
        let after_colon = &paragraph[paragraph.find("):").expect("the list follows `):`")..];
        after_colon
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn the_operators_the_reference_lists_are_the_engines() {
        let documented = documented_operators();
        let mut engine: Vec<String> = ENGINE.builtin_operator_names().map(str::to_owned).collect();
        let mut listed = documented.clone();
        engine.sort();
        listed.sort();
        assert_eq!(
            listed, engine,
            "docs/reference.md §2's Operators vs the engine"
        );
        for name in &documented {
            let rule = json!({ name.as_str(): [{"var": "payload.a"}, {"var": "payload.b"}] });
            if let Err(err) = Rule::compile(&rule) {
                assert!(!err.contains("unknown"), "`{name}`: {err}");
            }
        }
    }

    /// A context of `n` numbers under `payload.xs` and as many under `payload.ys`.
    fn numbers(n: usize) -> Value {
        json!({"payload": {"xs": vec![0; n], "ys": vec![0; n]}})
    }

    #[test]
    fn an_evaluation_over_the_budget_is_refused_before_it_starts() {
        let quadratic = json!({"distinct": [{"var": "payload.xs"}]});
        assert_eq!(eval(&quadratic, &numbers(10)).unwrap(), json!([0]));
        let err = eval(&quadratic, &numbers(10_000)).unwrap_err();
        assert_eq!(err.kind, BUDGET_EXCEEDED);
        assert_eq!(err.to_string(), "rule failed (BudgetExceeded)");

        let equal = json!({"==": [{"var": "payload.xs"}, {"var": "payload.ys"}]});
        assert_eq!(eval(&equal, &numbers(60_000)).unwrap(), json!(true));

        let wide = json!({"+": vec![json!({"length": {"var": "payload.xs"}}); 15]});
        assert_eq!(eval(&wide, &numbers(1_000)).unwrap(), json!(15_000));
        let err = eval(&wide, &numbers(200_000)).unwrap_err();
        assert_eq!(err.kind, BUDGET_EXCEEDED);
    }

    #[test]
    fn the_size_counting_stops_at_its_cap() {
        assert_eq!(rule_bounds::size(&json!({"ab": ["xyz", 1]}), 100), 10);
        assert_eq!(rule_bounds::size(&numbers(1_000), 50), 51);
    }
}
