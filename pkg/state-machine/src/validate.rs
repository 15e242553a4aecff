//! Config faults: parsing the shape, then checking the meaning.
//!
//! Every semantic fault is collected, so one report names all of them.

use std::collections::HashMap;
use std::fmt;

use crate::alarm_rules::{self, CompiledAlarms};
use crate::config::Config;
use crate::guard::{self, TransitionRules};
use crate::schema::PayloadSchema;
use crate::then::{self, CompiledReaction};

/// Why a config was refused: every fault found, in document order.
///
/// Displays one fault per line, each as `path: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", self.lines())]
pub struct ConfigError {
    /// The faults, at least one.
    pub faults: Vec<ConfigFault>,
}

impl ConfigError {
    fn lines(&self) -> String {
        let lines: Vec<String> = self.faults.iter().map(ToString::to_string).collect();
        lines.join("\n")
    }
}

/// One fault in a config.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigFault {
    /// Where: e.g. `transitions[2].from[0]`, `initialState`, or `""` for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigFault {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// The longest event name: an event is published with its name as
/// EventBridge's `DetailType`, which takes at most 128 characters. Refused
/// for every config, published or not, so turning `publish` on never makes
/// a stored event unpublishable.
pub const MAX_EVENT_NAME_BYTES: usize = 128;

/// `path: message`, or the message alone for the whole document (empty path).
impl fmt::Display for ConfigFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

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

    let reactions = then::compile(config, &mut faults);
    let rules = guard::compile(config, &mut faults);
    let alarms = alarm_rules::compile(config, &schemas, &mut faults);

    if faults.is_empty() {
        Ok(Compiled {
            schemas,
            reactions,
            rules,
            alarms,
        })
    } else {
        Err(ConfigError { faults })
    }
}
