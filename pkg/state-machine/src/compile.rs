//! Compiling a config: parsing its shape, then checking its meaning and
//! compiling what it holds (payload schemas here; each feature's rules in
//! its own `compile` module: [`crate::guard::compile`],
//! [`crate::reaction::compile`], [`crate::alarm::compile`],
//! [`crate::binding::compile`]).
//!
//! Every semantic fault is collected, so one report names all of them.

use std::collections::HashMap;

use crate::alarm::compile::CompiledAlarms;
use crate::binding::compile::CompiledBinding;
use crate::fault::{ConfigError, ConfigFault};
use crate::guard::compile::TransitionRules;
use crate::model::config::Config;
use crate::reaction::compile::CompiledReaction;
use crate::schema::PayloadSchema;
use crate::{alarm, binding, guard, reaction};

/// The longest event name: an event is published with its name as
/// EventBridge's `DetailType`, which takes at most 128 characters. Refused
/// for every config, published or not, so turning `publish` on never makes
/// a stored event unpublishable.
pub const MAX_EVENT_NAME_BYTES: usize = 128;

/// Parses the shape of a config; a failure is one fault located by `serde_path_to_error`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let shape_fault = |path: String, err: &serde_json::Error| ConfigError {
        faults: vec![ConfigFault::new(path, err.to_string())],
    };
    let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        // serde_path_to_error writes the document root as ".".
        let path = if path == "." { String::new() } else { path };
        shape_fault(path, err.inner())
    })?;
    de.end().map_err(|err| shape_fault(String::new(), &err))?;
    Ok(config)
}

/// What a valid config compiles to, one entry per transition.
pub(crate) struct Compiled {
    pub(crate) schemas: Vec<Option<PayloadSchema>>,
    pub(crate) reactions: Vec<Vec<CompiledReaction>>,
    pub(crate) rules: Vec<TransitionRules>,
    pub(crate) alarms: CompiledAlarms,
    /// One per binding, by index (`None` never survives a valid config).
    pub(crate) bindings: Vec<Option<CompiledBinding>>,
}

/// Checks the meaning of a config and compiles its payload schemas, its
/// reactions, its rules (one of each per transition) and its alarms.
pub(crate) fn check(config: &Config) -> Result<Compiled, ConfigError> {
    let mut faults = Vec::new();
    let empty = |path: String| ConfigFault::new(path, "must not be empty");

    if config.aggregate_type.is_empty() {
        faults.push(empty("aggregateType".into()));
    }

    let mut declared: HashMap<&str, usize> = HashMap::new();
    for (i, state) in config.states.iter().enumerate() {
        let path = format!("states[{i}]");
        if state.is_empty() {
            faults.push(empty(path));
        } else if let Some(first) = declared.get(state.as_str()) {
            faults.push(ConfigFault::new(
                path,
                format!("duplicate state `{state}` (first declared at states[{first}])"),
            ));
        } else {
            declared.insert(state, i);
        }
    }
    let undeclared = |path: String, state: &str| {
        ConfigFault::new(path, format!("state `{state}` is not declared in `states`"))
    };

    if config.initial_state.is_empty() {
        faults.push(empty("initialState".into()));
    } else if !declared.contains_key(config.initial_state.as_str()) {
        faults.push(undeclared("initialState".into(), &config.initial_state));
    }

    // (command, from state) -> index of the last transition handling it so far.
    let mut handled: HashMap<(&str, &str), usize> = HashMap::new();
    let mut schemas = Vec::with_capacity(config.transitions.len());
    for (i, t) in config.transitions.iter().enumerate() {
        let at = |field: &str| format!("transitions[{i}].{field}");
        if t.command.is_empty() {
            faults.push(empty(at("command")));
        }
        if t.event.is_empty() {
            faults.push(empty(at("event")));
        } else if t.event.len() > MAX_EVENT_NAME_BYTES {
            faults.push(ConfigFault::new(
                at("event"),
                format!(
                    "is {} bytes long, over the {MAX_EVENT_NAME_BYTES} EventBridge allows for a \
                     published event's `DetailType`",
                    t.event.len()
                ),
            ));
        }
        if t.to.is_empty() {
            faults.push(empty(at("to")));
        } else if !declared.contains_key(t.to.as_str()) {
            faults.push(undeclared(at("to"), &t.to));
        }
        if t.from.is_empty() {
            faults.push(ConfigFault::new(at("from"), "must list at least one state"));
        }
        for (k, state) in t.from.iter().enumerate() {
            let path = format!("transitions[{i}].from[{k}]");
            if state.is_empty() {
                faults.push(empty(path));
                continue;
            }
            if !declared.contains_key(state.as_str()) {
                faults.push(undeclared(path.clone(), state));
            }
            if t.command.is_empty() {
                continue;
            }
            // Several transitions may share (command, state) when every one
            // but the last has a guard: they are tried in config order.
            match handled.insert((&t.command, state), i) {
                Some(earlier)
                    if earlier != i
                        && config
                            .transitions
                            .get(earlier)
                            .is_none_or(|e| e.guard.is_none()) =>
                {
                    faults.push(ConfigFault::new(
                        path,
                        format!(
                            "transitions[{earlier}] and transitions[{i}] both handle command `{}` \
                             from state `{state}`, and transitions[{earlier}] has no `guard` (every \
                             transition but the last for one command and state needs one)",
                            t.command
                        ),
                    ));
                }
                _ => {} // guarded, or listed twice in the same `from`
            }
        }
        let schema = match &t.payload_schema {
            None => None,
            Some(schema) => match PayloadSchema::compile(schema) {
                Ok(compiled) => Some(compiled),
                Err(message) => {
                    faults.push(ConfigFault::new(at("payloadSchema"), message));
                    None
                }
            },
        };
        schemas.push(schema);
    }

    let reactions = reaction::compile::compile(config, &mut faults);
    let rules = guard::compile::compile(config, &mut faults);
    let alarms = alarm::compile::compile(config, &schemas, &mut faults);
    let bindings = binding::compile::compile(config, &schemas, &mut faults);

    if faults.is_empty() {
        Ok(Compiled {
            schemas,
            reactions,
            rules,
            alarms,
            bindings,
        })
    } else {
        Err(ConfigError { faults })
    }
}
