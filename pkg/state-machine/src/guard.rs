//! A transition's business rules: its `guard` (does it apply?) and its `set`
//! (values computed into the event's payload), compiled once with the
//! config and evaluated against the aggregate as it is before the command
//! (docs/reference.md §2).

use datalogic_rs::bumpalo::Bump;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::config::{Config, Transition};
use crate::rule::{Rule, RuleContext};
use crate::state::AggregateState;
use crate::validate::ConfigFault;

/// One transition's rules, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransitionRules {
    /// `None`: the transition always applies.
    pub(crate) guard: Option<Rule>,
    /// The `set` fields, in config order.
    pub(crate) set: Vec<(String, Rule)>,
}

impl TransitionRules {
    /// True when the transition has no rule to evaluate.
    pub(crate) fn is_empty(&self) -> bool {
        self.guard.is_none() && self.set.is_empty()
    }
}

/// The command as rules and `decide_command` see it.
#[derive(Debug, Clone, Copy)]
pub struct CommandInput<'a> {
    /// The aggregate's type.
    pub aggregate_type: &'a str,
    /// The aggregate's id.
    pub aggregate_id: &'a str,
    /// The command's name.
    pub command: &'a str,
    /// The command's payload.
    pub payload: &'a Map<String, Value>,
    /// The command's metadata.
    pub metadata: &'a Map<String, Value>,
    /// Now, by the handler's clock: alarms set by the command are due
    /// relative to it.
    pub now: Timestamp,
}

/// How a transition is named in rejections and faults:
/// ``transitions[2] (`Reserve` -> `StockReserved`)``.
pub(crate) fn transition_name(index: usize, t: &Transition) -> String {
    format!("transitions[{index}] (`{}` -> `{}`)", t.command, t.event)
}

/// Compiles every transition's `guard`, `guardMessage` check and `set`
/// (one entry per transition, by index). Appends every fault to `faults`.
pub(crate) fn compile(config: &Config, faults: &mut Vec<ConfigFault>) -> Vec<TransitionRules> {
    config
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| compile_one(i, t, faults))
        .collect()
}

fn compile_one(i: usize, t: &Transition, faults: &mut Vec<ConfigFault>) -> TransitionRules {
    let at = |field: &str| format!("transitions[{i}].{field}");
    let mut rules = TransitionRules::default();
    match &t.guard {
        None => {}
        Some(value @ (Value::Bool(_) | Value::Object(_) | Value::Array(_))) => {
            match Rule::compile(value) {
                Ok(rule) => rules.guard = Some(rule),
                Err(message) => faults.push(ConfigFault::new(at("guard"), message)),
            }
        }
        Some(_) => faults.push(ConfigFault::new(
            at("guard"),
            "must be a JSON Logic rule or a literal boolean",
        )),
    }
    match (&t.guard, &t.guard_message) {
        (None, Some(_)) => faults.push(ConfigFault::new(
            at("guardMessage"),
            "is given but the transition has no `guard`",
        )),
        (_, Some(message)) if message.is_empty() => {
            faults.push(ConfigFault::new(at("guardMessage"), "must not be empty"));
        }
        _ => {}
    }
    for (field, value) in t.set.iter().flatten() {
        let path = at(&format!("set.{field}"));
        if field.is_empty() {
            faults.push(ConfigFault::new(path, "a field name must not be empty"));
            continue;
        }
        match Rule::compile(value) {
            Ok(rule) => rules.set.push((field.clone(), rule)),
            Err(message) => faults.push(ConfigFault::new(path, message)),
        }
    }
    rules
}

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
