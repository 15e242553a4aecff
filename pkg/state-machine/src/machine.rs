//! The compiled state machine and `decide`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::schema::PayloadSchema;
use crate::state::AggregateState;
use crate::then::CompiledReaction;
use crate::validate::{self, ConfigError};

/// A validated, compiled state machine for one aggregate type.
///
/// Built once from a [`Config`]; [`decide`](Self::decide) is then a map lookup
/// plus, when the transition has one, a precompiled schema check.
#[derive(Debug)]
pub struct StateMachine {
    config: Config,
    /// command -> how it is handled.
    commands: HashMap<String, CommandEntry>,
    /// One per transition, by index.
    schemas: Vec<Option<PayloadSchema>>,
    /// Each transition's `then`, compiled, by index.
    reactions: Vec<Vec<CompiledReaction>>,
}

#[derive(Debug)]
struct CommandEntry {
    /// from state -> transition index.
    by_state: HashMap<String, usize>,
    /// Union of the `from` lists of the transitions naming the command, in config order.
    allowed_from: Vec<String>,
}

/// What an accepted command records.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The transition's `event`.
    pub event_type: String,
    /// The transition's `to`: the state after the event.
    pub to_state: String,
}

/// Why a command is refused. Every variant is permanent: same input, same answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Rejection {
    /// No transition names this command.
    #[error("unknown command `{command}` for aggregate type `{aggregate_type}`")]
    UnknownCommand {
        /// The machine's aggregate type.
        aggregate_type: String,
        /// The command asked for.
        command: String,
    },
    /// A transition names the command, but not from the current state.
    #[error("command `{command}` is not allowed in state `{state}` (allowed from: {})", allowed_from.join(", "))]
    InvalidTransition {
        /// The command asked for.
        command: String,
        /// The aggregate's current state.
        state: String,
        /// Every state the command is accepted in, in config order.
        allowed_from: Vec<String>,
    },
    /// The payload does not satisfy the transition's `payloadSchema`.
    #[error("payload of `{command}` violates its schema: {}", errors.join("; "))]
    SchemaViolation {
        /// The command asked for.
        command: String,
        /// Each `"<instance path>: <message>"` (root path `/`), at most ten, then
        /// `"... and more"` when there are more; a payload over 4 KiB gets its first
        /// error only (jsonschema 0.60 would build every error to list a few).
        errors: Vec<String>,
    },
}

impl StateMachine {
    /// Parses, validates and compiles a JSON config.
    ///
    /// # Errors
    /// A shape error (not JSON, wrong type, missing or unknown field) is one fault;
    /// otherwise every semantic fault found is listed.
    pub fn from_json(bytes: &[u8]) -> Result<StateMachine, ConfigError> {
        Self::from_config(validate::parse(bytes)?)
    }

    /// Validates and compiles a config.
    ///
    /// # Errors
    /// Every semantic fault found: empty names, duplicate or undeclared states,
    /// empty `from` lists, two transitions for one (command, state), payload
    /// schemas that do not compile.
    pub fn from_config(config: Config) -> Result<StateMachine, ConfigError> {
        let validate::Compiled { schemas, reactions } = validate::check(&config)?;
        let mut commands: HashMap<String, CommandEntry> = HashMap::new();
        for (i, t) in config.transitions.iter().enumerate() {
            let entry = commands
                .entry(t.command.clone())
                .or_insert_with(|| CommandEntry {
                    by_state: HashMap::new(),
                    allowed_from: Vec::new(),
                });
            for state in &t.from {
                if !entry.by_state.contains_key(state) {
                    entry.by_state.insert(state.clone(), i);
                    entry.allowed_from.push(state.clone());
                }
            }
        }
        Ok(StateMachine {
            config,
            commands,
            schemas,
            reactions,
        })
    }

    /// The config this machine was built from.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The compiled `then` of the first transition that records `event_type`
    /// into `state` (validation makes every such transition list the same);
    /// `None` when no transition does.
    pub(crate) fn then_of(&self, event_type: &str, state: &str) -> Option<&[CompiledReaction]> {
        let i = self
            .config
            .transitions
            .iter()
            .position(|t| t.event == event_type && t.to == state)?;
        self.reactions.get(i).map(Vec::as_slice)
    }

    /// The aggregate type this machine governs.
    pub fn aggregate_type(&self) -> &str {
        &self.config.aggregate_type
    }

    /// The config's `version`.
    pub fn version(&self) -> u64 {
        self.config.version
    }

    /// The state of an aggregate with no events: `initialState`, version 0, empty data.
    pub fn initial_state(&self) -> AggregateState {
        AggregateState {
            state: self.config.initial_state.clone(),
            version: 0,
            data: Map::new(),
        }
    }

    /// Decides whether `command` with `payload` is accepted in `current`, and if so
    /// which event it records and where it leads. Applying the event is
    /// [`AggregateState::apply`].
    ///
    /// # Errors
    /// A [`Rejection`]: unknown command, not allowed from the current state, or a
    /// payload that violates the transition's schema.
    pub fn decide(
        &self,
        current: &AggregateState,
        command: &str,
        payload: &Map<String, Value>,
    ) -> Result<Decision, Rejection> {
        let Some(entry) = self.commands.get(command) else {
            return Err(Rejection::UnknownCommand {
                aggregate_type: self.config.aggregate_type.clone(),
                command: command.to_owned(),
            });
        };
        let transition = entry
            .by_state
            .get(current.state.as_str())
            .and_then(|&i| Some((self.config.transitions.get(i)?, self.schemas.get(i)?)));
        let Some((transition, schema)) = transition else {
            return Err(Rejection::InvalidTransition {
                command: command.to_owned(),
                state: current.state.clone(),
                allowed_from: entry.allowed_from.clone(),
            });
        };
        if let Some(schema) = schema {
            let errors = schema.errors(payload);
            if !errors.is_empty() {
                return Err(Rejection::SchemaViolation {
                    command: command.to_owned(),
                    errors,
                });
            }
        }
        Ok(Decision {
            event_type: transition.event.clone(),
            to_state: transition.to.clone(),
        })
    }
}
