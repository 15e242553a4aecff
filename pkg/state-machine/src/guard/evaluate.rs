//! A transition's business rules evaluated against the aggregate as it is
//! before the command: the guard first, then the `set` (docs/reference.md §2).

use datalogic_rs::bumpalo::Bump;
use serde_json::{Map, Value, json};

use crate::guard::compile::TransitionRules;
use crate::model::command::CommandInput;
use crate::model::config::{Transition, transition_name};
use crate::model::state::AggregateState;
use crate::rule::RuleContext;

/// What rules of `decide_command` see: `{aggregateType, aggregateId, state,
/// version, data, payload, metadata}`, the aggregate before the command.
pub(crate) fn context(current: &AggregateState, input: &CommandInput<'_>) -> Value {
    json!({
        "aggregateType": input.aggregate_type,
        "aggregateId": input.aggregate_id,
        "state": current.state,
        "version": current.version,
        "data": current.data,
        "payload": input.payload,
        "metadata": input.metadata,
    })
}

/// The outcome of trying one transition's rules.
pub(crate) enum Tried {
    /// The guard holds (or there is none): the payload with `set` applied,
    /// `None` when there is no `set`.
    Applies(Option<Map<String, Value>>),
    /// The guard does not hold; the reason (never a value).
    Declined(String),
    /// The guard (or the context of the rules) could not be evaluated: it
    /// does not hold, with this reason; a fired alarm is then a failure.
    Unevaluable(String),
    /// A `set` rule failed: the command is refused with this reason.
    SetFailed(String),
}

/// Evaluates one transition's guard, then its `set`, against `data`.
pub(crate) fn try_rules(
    index: usize,
    t: &Transition,
    rules: &TransitionRules,
    payload: &Map<String, Value>,
    data: &Value,
) -> Tried {
    let name = transition_name(index, t);
    let arena = Bump::new();
    let context = match RuleContext::new(data, &arena) {
        Ok(context) => context,
        Err(err) => {
            return Tried::Unevaluable(format!("{name}: its rules could not be evaluated ({err})"));
        }
    };
    if let Some(guard) = &rules.guard {
        let message = t
            .guard_message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        match guard.evaluate(&context) {
            Ok(value) if truthy(&value) => {}
            Ok(_) => return Tried::Declined(format!("{name}: guard does not hold{message}")),
            Err(err) => {
                return Tried::Unevaluable(format!(
                    "{name}: guard could not be evaluated ({err}){message}"
                ));
            }
        }
    }
    if rules.set.is_empty() {
        return Tried::Applies(None);
    }
    let mut out = payload.clone();
    for (field, rule) in &rules.set {
        match rule.evaluate(&context) {
            Ok(value) => {
                out.insert(field.clone(), value);
            }
            Err(err) => {
                return Tried::SetFailed(format!(
                    "{name}: `set.{field}` could not be evaluated ({err})"
                ));
            }
        }
    }
    Tried::Applies(Some(out))
}

/// JSON Logic truthiness: `false`, `null`, `0`, `""`, `[]` and `{}` are
/// false, everything else is true.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}
