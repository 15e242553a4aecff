//! A transition's `then` (its reactions), checked and compiled once when the
//! config is loaded; [`super::evaluate`] builds them from a stored event.

use std::collections::HashMap;

use serde_json::Value;

use crate::fault::ConfigFault;
use crate::model::config::{Config, ReactionSpec};
use crate::rule::Rule;

/// One reaction, compiled: each field a literal or a rule.
#[derive(Debug, Clone)]
pub(crate) struct CompiledReaction {
    /// `None`: the event's own type.
    pub(crate) aggregate_type: Option<Rule>,
    /// `None`: the event's own id.
    pub(crate) aggregate_id: Option<Rule>,
    pub(crate) command: Rule,
    /// The payload's fields, in config order.
    pub(crate) payload: Vec<(String, Rule)>,
}

impl CompiledReaction {
    /// True when some field is a rule (so the event must be given to it).
    pub(crate) fn reads_the_event(&self) -> bool {
        let rule = |r: &Rule| r.literal().is_none();
        self.aggregate_type.as_ref().is_some_and(rule)
            || self.aggregate_id.as_ref().is_some_and(rule)
            || rule(&self.command)
            || self.payload.iter().any(|(_, r)| rule(r))
    }
}

/// Compiles every transition's `then` (one list per transition, by index)
/// and checks that transitions recording the same event into the same state
/// list the same reactions. Appends every fault found to `faults`.
pub(crate) fn compile(
    config: &Config,
    faults: &mut Vec<ConfigFault>,
) -> Vec<Vec<CompiledReaction>> {
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    let mut compiled = Vec::with_capacity(config.transitions.len());
    for (i, t) in config.transitions.iter().enumerate() {
        let reactions = t
            .then
            .iter()
            .enumerate()
            .filter_map(|(k, spec)| reaction(spec, &format!("transitions[{i}].then[{k}]"), faults))
            .collect();
        compiled.push(reactions);
        match first.get(&(t.event.as_str(), t.to.as_str())) {
            Some(&f) if config.transitions[f].then != t.then => faults.push(ConfigFault::new(
                format!("transitions[{i}].then"),
                format!(
                    "transitions[{f}] and transitions[{i}] both record event `{}` into state `{}` \
                     but list different `then`; reactions follow from the event, so give the two \
                     transitions distinct event names",
                    t.event, t.to
                ),
            )),
            Some(_) => {}
            None => {
                first.insert((&t.event, &t.to), i);
            }
        }
    }
    compiled
}

/// Which literals a name field accepts.
#[derive(Clone, Copy)]
enum Name {
    /// A non-empty string.
    Text,
    /// A non-empty string or a number (an id).
    Id,
}

fn reaction(
    spec: &ReactionSpec,
    at: &str,
    faults: &mut Vec<ConfigFault>,
) -> Option<CompiledReaction> {
    let before = faults.len();
    let mut name = |value: &Value, field: &str, kind: Name| -> Option<Rule> {
        let path = format!("{at}.{field}");
        let rule = match Rule::compile(value) {
            Ok(rule) => rule,
            Err(message) => {
                faults.push(ConfigFault::new(path, message));
                return None;
            }
        };
        let fits = match (rule.literal(), kind) {
            (None, _) => true,
            (Some(Value::String(s)), _) => !s.is_empty(),
            (Some(Value::Number(_)), Name::Id) => true,
            (Some(_), _) => false,
        };
        if !fits {
            let what = match kind {
                Name::Text => "a non-empty string",
                Name::Id => "a non-empty string or a number",
            };
            faults.push(ConfigFault::new(
                path,
                format!("must be {what}, or a JSON Logic rule"),
            ));
            return None;
        }
        Some(rule)
    };
    let aggregate_type = spec
        .aggregate_type
        .as_ref()
        .map(|v| name(v, "aggregateType", Name::Text));
    let aggregate_id = spec
        .aggregate_id
        .as_ref()
        .map(|v| name(v, "aggregateId", Name::Id));
    let command = name(&spec.command, "command", Name::Text);
    let mut payload = Vec::new();
    for (field, value) in spec.payload.iter().flatten() {
        match Rule::compile(value) {
            Ok(rule) => payload.push((field.clone(), rule)),
            Err(message) => faults.push(ConfigFault::new(format!("{at}.payload.{field}"), message)),
        }
    }
    if faults.len() > before {
        return None;
    }
    Some(CompiledReaction {
        aggregate_type: aggregate_type.flatten(),
        aggregate_id: aggregate_id.flatten(),
        command: command?,
        payload,
    })
}
