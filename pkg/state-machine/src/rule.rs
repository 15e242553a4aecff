//! Config values that are a literal or a JSON Logic rule, compiled once when
//! the config is loaded (through `datalogic-rs`) and evaluated against a
//! JSON context. Used by `then` (reactions); meant for guards and `set` too.
//!
//! A string, number, boolean or null is a literal and is taken as it is. An
//! object or an array is a rule: an object names one operator (`var`, `cat`,
//! `if`, `+`, ...: the core JSON Logic operators), an array is evaluated
//! item by item. An unknown operator fails at compile time.
//!
//! Bounds (size, depth, iteration, result size) are in `rule_bounds`.
//!
//! Evaluation errors never carry values: [`RuleError`] names the kind of
//! failure and the operator, nothing of the context.

use std::sync::{Arc, LazyLock};

use datalogic_rs::bumpalo::Bump;
use datalogic_rs::{
    DataValue, DivisionByZeroHandling, Engine, EvalInput, EvaluationConfig, FromDataValue, Logic,
    NumericCoercionConfig,
};

use crate::rule_bounds;
use serde_json::Value;

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
    /// A JSON Logic rule.
    Logic(Arc<Logic>),
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
                rule_bounds::check(value)?;
                ENGINE
                    .compile(value)
                    .map(|logic| Rule::Logic(Arc::new(logic)))
                    .map_err(|err| format!("is not a valid JSON Logic rule: {err}"))
            }
            literal => Ok(Rule::Literal(literal.clone())),
        }
    }

    /// The value when it is a literal.
    pub(crate) fn literal(&self) -> Option<&Value> {
        match self {
            Rule::Literal(value) => Some(value),
            Rule::Logic(_) => None,
        }
    }

    /// The value against `context` (a literal needs none).
    pub(crate) fn evaluate(&self, context: &RuleContext<'_>) -> Result<Value, RuleError> {
        match self {
            Rule::Literal(value) => Ok(value.clone()),
            Rule::Logic(logic) => {
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
}

impl<'a> RuleContext<'a> {
    /// `data` in `arena`.
    pub(crate) fn new(data: &'a Value, arena: &'a Bump) -> Result<Self, RuleError> {
        let data = data.into_arena_value(arena).map_err(|err| RuleError {
            kind: err.tag(),
            operator: None,
        })?;
        Ok(Self { arena, data })
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
}
