//! A transition's business rules, compiled once with the config: its
//! `guard` (does it apply?) and its `set` (values computed into the event's
//! payload), docs/reference.md §2. [`super::evaluate`] runs them.

use serde_json::Value;

use crate::fault::ConfigFault;
use crate::model::config::{Config, Transition};
use crate::rule::Rule;

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
