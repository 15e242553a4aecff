//! A config's `bindings`, checked and compiled once when the config is
//! loaded; [`super::evaluate`] builds a command from an outside event.
//!
//! Checked here: `source` and `detailType` are not empty and no two
//! bindings share them; the command is one of the type's; `aggregateId`
//! and `expectedVersion`, when literals, have the envelope's shape; every
//! rule compiles within the evaluation budget (`rule_bounds`); and a
//! payload made of literals only passes the command's `payloadSchema` (one
//! of them, when several transitions name the command).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::fault::ConfigFault;
use crate::model::config::{BindingSpec, Config};
use crate::rule::Rule;
use crate::schema::PayloadSchema;

/// The longest `source` EventBridge takes (its `Source` field).
pub(crate) const MAX_SOURCE_BYTES: usize = 256;
/// The longest `detailType` EventBridge takes (its `DetailType` field).
pub(crate) const MAX_DETAIL_TYPE_BYTES: usize = 128;

/// One binding, compiled: each built field a literal or a rule.
#[derive(Debug, Clone)]
pub(crate) struct CompiledBinding {
    pub(crate) aggregate_id: Rule,
    /// The payload's fields, in config order.
    pub(crate) payload: Vec<(String, Rule)>,
    pub(crate) expected_version: Option<Rule>,
}

impl CompiledBinding {
    /// True when some field is a rule (so the event must be given to it).
    pub(crate) fn reads_the_event(&self) -> bool {
        let rule = |r: &Rule| r.literal().is_none();
        rule(&self.aggregate_id)
            || self.payload.iter().any(|(_, r)| rule(r))
            || self.expected_version.as_ref().is_some_and(rule)
    }
}

/// Compiles every binding (one entry per binding, by index, `None` for a
/// faulty one), appending every fault found to `faults`. `schemas` are the
/// transitions' compiled payload schemas, by index.
pub(crate) fn compile(
    config: &Config,
    schemas: &[Option<PayloadSchema>],
    faults: &mut Vec<ConfigFault>,
) -> Vec<Option<CompiledBinding>> {
    let mut first: HashMap<(&str, &str), usize> = HashMap::new();
    let mut compiled = Vec::with_capacity(config.bindings.len());
    for (i, spec) in config.bindings.iter().enumerate() {
        let at = |field: &str| format!("bindings[{i}].{field}");
        let before = faults.len();
        for (field, value, max) in [
            ("source", &spec.source, MAX_SOURCE_BYTES),
            ("detailType", &spec.detail_type, MAX_DETAIL_TYPE_BYTES),
        ] {
            if value.is_empty() {
                faults.push(ConfigFault::new(at(field), "must not be empty"));
            } else if value.len() > max {
                faults.push(ConfigFault::new(
                    at(field),
                    format!(
                        "is {} bytes long, over the {max} EventBridge allows",
                        value.len()
                    ),
                ));
            }
        }
        match first.get(&(spec.source.as_str(), spec.detail_type.as_str())) {
            Some(&f) => faults.push(ConfigFault::new(
                at("detailType"),
                format!(
                    "bindings[{f}] and bindings[{i}] both bind source `{}` and detail-type `{}`: \
                     an event must become one command",
                    spec.source, spec.detail_type
                ),
            )),
            None => {
                first.insert((&spec.source, &spec.detail_type), i);
            }
        }
        let targets: Vec<usize> = config
            .transitions
            .iter()
            .enumerate()
            .filter(|(_, t)| t.command == spec.command)
            .map(|(k, _)| k)
            .collect();
        if targets.is_empty() {
            faults.push(ConfigFault::new(
                at("command"),
                format!(
                    "command `{}` is not one of type `{}`'s (no transition names it)",
                    spec.command, config.aggregate_type
                ),
            ));
        }
        let binding = binding(spec, i, faults);
        if let Some(binding) = &binding {
            literal_payload_fits(binding, &targets, schemas, &at("payload"), faults);
        }
        compiled.push(binding.filter(|_| faults.len() == before));
    }
    compiled
}

/// The binding's rules compiled, each literal checked for its field's shape.
fn binding(spec: &BindingSpec, i: usize, faults: &mut Vec<ConfigFault>) -> Option<CompiledBinding> {
    let before = faults.len();
    let mut rule = |value: &Value, field: &str| match Rule::compile(value) {
        Ok(rule) => Some(rule),
        Err(message) => {
            faults.push(ConfigFault::new(format!("bindings[{i}].{field}"), message));
            None
        }
    };
    let aggregate_id = rule(&spec.aggregate_id, "aggregateId");
    let expected_version = spec
        .expected_version
        .as_ref()
        .map(|v| rule(v, "expectedVersion"));
    let mut payload = Vec::new();
    for (field, value) in spec.payload.iter().flatten() {
        if let Some(compiled) = rule(value, &format!("payload.{field}")) {
            payload.push((field.clone(), compiled));
        }
    }
    if let Some(Some(literal)) = aggregate_id.as_ref().map(Rule::literal) {
        let fits = match literal {
            Value::String(s) => !s.is_empty(),
            Value::Number(_) => true,
            _ => false,
        };
        if !fits {
            faults.push(ConfigFault::new(
                format!("bindings[{i}].aggregateId"),
                "must be a non-empty string or a number, or a JSON Logic rule",
            ));
        }
    }
    if let Some(Some(Some(literal))) = expected_version
        .as_ref()
        .map(|r| r.as_ref().map(Rule::literal))
        && !(literal.is_u64() || literal.is_null())
    {
        faults.push(ConfigFault::new(
            format!("bindings[{i}].expectedVersion"),
            "must be a non-negative integer, or a JSON Logic rule",
        ));
    }
    if faults.len() > before {
        return None;
    }
    Some(CompiledBinding {
        aggregate_id: aggregate_id?,
        payload,
        expected_version: expected_version.flatten(),
    })
}

/// A payload of literals only is known now: it must pass the schema of one
/// of the transitions naming the command (or one of them has none).
fn literal_payload_fits(
    binding: &CompiledBinding,
    targets: &[usize],
    schemas: &[Option<PayloadSchema>],
    at: &str,
    faults: &mut Vec<ConfigFault>,
) {
    let mut payload = Map::new();
    for (field, rule) in &binding.payload {
        let Some(value) = rule.literal() else {
            return; // built from the event: checked when it comes
        };
        payload.insert(field.clone(), value.clone());
    }
    let mut errors = Vec::new();
    for &k in targets {
        match schemas.get(k) {
            Some(Some(schema)) => {
                let found = schema.errors(&payload);
                if found.is_empty() {
                    return;
                }
                errors.push(format!("transitions[{k}]: {}", found.join("; ")));
            }
            // A transition with no schema takes any payload.
            _ => return,
        }
    }
    if !errors.is_empty() {
        faults.push(ConfigFault::new(
            at,
            format!(
                "the payload (all literals) violates the command's payloadSchema: {}",
                errors.join(" | ")
            ),
        ));
    }
}
