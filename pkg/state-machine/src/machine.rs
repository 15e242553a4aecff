//! The compiled state machine and `decide`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::alarm::compile::CompiledAlarms;
use crate::alarm::evaluate::{self as alarm_evaluate, AlarmWork};
use crate::binding::compile::CompiledBinding;
use crate::compile;
use crate::fault::ConfigError;
use crate::guard::compile::TransitionRules;
use crate::guard::evaluate::{self as guard_evaluate, Tried};
use crate::model::alarm::{ALARM_EARLY_TOLERANCE_SECONDS, AlarmChanges, AlarmRef, Alarms, Stale};
use crate::model::command::CommandInput;
use crate::model::config::{Config, transition_name};
use crate::model::state::AggregateState;
use crate::reaction::compile::CompiledReaction;
use crate::schema::PayloadSchema;

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
    /// Each transition's `guard` and `set`, compiled, by index.
    rules: Vec<TransitionRules>,
    /// Each transition's `alarms` and the config's `expiry`, compiled.
    alarms: CompiledAlarms,
    /// Each binding, compiled, by index.
    bindings: Vec<Option<CompiledBinding>>,
}

/// Why `decide_transition` refused: the rejection, and whether a rule could
/// not be evaluated on the way (a fired alarm is then a failure, not stale).
struct Refused {
    rejection: Rejection,
    rule_failed: bool,
}

impl From<Rejection> for Refused {
    fn from(rejection: Rejection) -> Self {
        Refused {
            rejection,
            rule_failed: false,
        }
    }
}

#[derive(Debug)]
struct CommandEntry {
    /// from state -> transition indices, in config order (every one but
    /// the last has a guard).
    by_state: HashMap<String, Vec<usize>>,
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
    /// The payload to store and fold instead of the command's: `Some` when
    /// the transition has a `set` (the command's payload with the computed
    /// fields written over it), `None` to use the command's payload as sent.
    pub payload: Option<Map<String, Value>>,
    /// What the event does to the aggregate's alarms: `Some` when it changes
    /// any (expiry at creation, `alarms.set`/`clear`, a set alarm replaced, a
    /// fired alarm consumed). Applied with [`AggregateState::apply_alarms`].
    pub alarms: Option<AlarmChanges>,
}

/// Why a command is refused. Every variant is permanent: same input, same
/// answer. [`Rejection::Stale`] is not a failure: the handler acknowledges
/// it with no effect (see [`Rejection::is_stale`]).
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
    /// No transition for the command from the current state has a guard
    /// that holds, or a `set` rule could not be evaluated.
    #[error("command `{command}` refused: {reason}")]
    GuardFailed {
        /// The command asked for.
        command: String,
        /// Names the transition and why (the last guard's `guardMessage`,
        /// or the kind of evaluation failure); never a payload value.
        reason: String,
    },
    /// The command's alarms cannot be set: an `at` rule that does not give
    /// an RFC 3339 time, a due time more than 10 years away, or more than
    /// [`MAX_ALARMS`](crate::MAX_ALARMS) alarms left on the aggregate.
    #[error("command `{command}` refused: {reason}")]
    AlarmInvalid {
        /// The command asked for.
        command: String,
        /// Names the transition and the alarm and what is wrong; never a value.
        reason: String,
    },
    /// A command naming a set alarm (`metadata.alarm`, right name and
    /// version) that came before the alarm is due, less
    /// [`ALARM_EARLY_TOLERANCE_SECONDS`] (the scheduler's precision): a
    /// forged or early firing, refused, so the alarm stays set and fires
    /// when due.
    #[error(
        "alarm `{alarm}` set by version {version} is not due yet: a firing more than \
         {ALARM_EARLY_TOLERANCE_SECONDS} s before its due time does not apply"
    )]
    AlarmNotDue {
        /// The alarm's name.
        alarm: String,
        /// The version that set it.
        version: u64,
    },
    /// A command naming a set alarm whose command or payload is not the
    /// alarm's: it is no firing of that alarm, and refused.
    #[error("command `{command}` names alarm `{alarm}` set by version {version}, but {reason}")]
    AlarmMismatch {
        /// The command asked for.
        command: String,
        /// The alarm's name.
        alarm: String,
        /// The version that set it.
        version: u64,
        /// What differs (the command's name, or that the payload is not the
        /// alarm's); never a value.
        reason: String,
    },
    /// A fired alarm (its command carries `metadata.alarm`) that has no
    /// effect: the alarm is no longer set by that version, or its command no
    /// longer applies. NOT a failure: acknowledged, no event, never
    /// dead-lettered.
    #[error("alarm `{alarm}` set by version {version} is stale: {why}")]
    Stale {
        /// The alarm's name.
        alarm: String,
        /// The version that set the alarm that fired.
        version: u64,
        /// Why it has no effect.
        why: Stale,
    },
}

impl Rejection {
    /// True for [`Rejection::Stale`]: a fired alarm with no effect, to be
    /// acknowledged rather than reported as a failure.
    pub fn is_stale(&self) -> bool {
        matches!(self, Rejection::Stale { .. })
    }
}

impl StateMachine {
    /// Parses, validates and compiles a JSON config.
    ///
    /// # Errors
    /// A shape error (not JSON, wrong type, missing or unknown field) is one fault;
    /// otherwise every semantic fault found is listed.
    pub fn from_json(bytes: &[u8]) -> Result<StateMachine, ConfigError> {
        Self::from_config(compile::parse(bytes)?)
    }

    /// Validates and compiles a config.
    ///
    /// # Errors
    /// Every semantic fault found: empty names, duplicate or undeclared states,
    /// empty `from` lists, two transitions for one (command, state), payload
    /// schemas that do not compile.
    pub fn from_config(config: Config) -> Result<StateMachine, ConfigError> {
        let compile::Compiled {
            schemas,
            reactions,
            rules,
            alarms,
            bindings,
        } = compile::check(&config)?;
        let mut commands: HashMap<String, CommandEntry> = HashMap::new();
        for (i, t) in config.transitions.iter().enumerate() {
            let entry = commands
                .entry(t.command.clone())
                .or_insert_with(|| CommandEntry {
                    by_state: HashMap::new(),
                    allowed_from: Vec::new(),
                });
            for state in &t.from {
                let tried = entry.by_state.entry(state.clone()).or_default();
                if tried.is_empty() {
                    entry.allowed_from.push(state.clone());
                }
                if !tried.contains(&i) {
                    tried.push(i);
                }
            }
        }
        Ok(StateMachine {
            config,
            commands,
            schemas,
            reactions,
            rules,
            alarms,
            bindings,
        })
    }

    /// The compiled `bindings`, by index.
    pub(crate) fn compiled_bindings(&self) -> &[Option<CompiledBinding>] {
        &self.bindings
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

    /// The commands of the alarms transition `i` sets (its own aggregate's).
    pub(crate) fn alarm_commands(&self, i: usize) -> impl Iterator<Item = &str> {
        self.alarms
            .transitions
            .get(i)
            .into_iter()
            .flat_map(|own| own.set.iter().map(|rule| rule.command.as_str()))
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
            alarms: Alarms::new(),
        }
    }

    /// [`decide_command`](Self::decide_command) for a command with no
    /// metadata, on an aggregate whose id rules do not read (they see `""`),
    /// at the system clock's now.
    ///
    /// # Errors
    /// As [`decide_command`](Self::decide_command).
    pub fn decide(
        &self,
        current: &AggregateState,
        command: &str,
        payload: &Map<String, Value>,
    ) -> Result<Decision, Rejection> {
        self.decide_command(
            current,
            &CommandInput {
                aggregate_type: &self.config.aggregate_type,
                aggregate_id: "",
                command,
                payload,
                metadata: &Map::new(),
                now: jiff::Timestamp::now(),
            },
        )
    }

    /// Decides whether the command is accepted in `current`, and if so which
    /// event it records, where it leads, when the transition has a `set`,
    /// the payload to store, and what it does to the aggregate's alarms.
    /// Applying the event is [`AggregateState::apply`] with
    /// `decision.payload` when `Some`, else the command's payload, then
    /// [`AggregateState::apply_alarms`] with `decision.alarms`.
    ///
    /// The transitions naming the command from the current state are tried
    /// in config order: a transition's payload schema is checked first (a
    /// violation refuses the command), then its guard; the first whose guard
    /// holds applies, and its `set` is evaluated, then its alarms (due from
    /// `input.now`).
    ///
    /// A command whose metadata names a fired alarm ([`AlarmRef`]) applies
    /// only when the aggregate still has that alarm, set by that version,
    /// for that command, and the command applies; it then consumes the
    /// alarm. Otherwise it is [`Rejection::Stale`].
    ///
    /// # Errors
    /// A [`Rejection`]: unknown command, not allowed from the current state,
    /// a payload that violates the schema, no guard that holds, alarms that
    /// cannot be set (`AlarmInvalid`), or a stale alarm.
    pub fn decide_command(
        &self,
        current: &AggregateState,
        input: &CommandInput<'_>,
    ) -> Result<Decision, Rejection> {
        let Some(fired) = AlarmRef::of_metadata(input.metadata) else {
            return self
                .decide_transition(current, input, None)
                .map_err(|refused| refused.rejection);
        };
        let stale = |why: Stale| Rejection::Stale {
            alarm: fired.name.clone(),
            version: fired.version,
            why,
        };
        match current.alarms.get(&fired.name) {
            None => return Err(stale(Stale::NotSet)),
            Some(alarm) if alarm.version != fired.version => {
                return Err(stale(Stale::Replaced {
                    by_version: alarm.version,
                }));
            }
            Some(alarm) if alarm.command != input.command => {
                return Err(Rejection::AlarmMismatch {
                    command: input.command.to_owned(),
                    alarm: fired.name.clone(),
                    version: fired.version,
                    reason: format!("that alarm sends `{}`, not this command", alarm.command),
                });
            }
            Some(alarm) if !alarm.is_due(input.now) => {
                return Err(Rejection::AlarmNotDue {
                    alarm: fired.name.clone(),
                    version: fired.version,
                });
            }
            Some(alarm) if alarm.payload != *input.payload => {
                return Err(Rejection::AlarmMismatch {
                    command: input.command.to_owned(),
                    alarm: fired.name.clone(),
                    version: fired.version,
                    reason: "its payload is not the alarm's payload".to_owned(),
                });
            }
            Some(_) => {}
        }
        match self.decide_transition(current, input, Some(&fired.name)) {
            Err(Refused {
                rejection:
                    Rejection::UnknownCommand { .. }
                    | Rejection::InvalidTransition { .. }
                    | Rejection::SchemaViolation { .. }
                    | Rejection::GuardFailed { .. },
                rule_failed: false,
            }) => Err(stale(Stale::MovedOn)),
            // A rule that could not be evaluated is a failure, not a firing
            // that no longer applies: the aggregate must not wait for an
            // alarm that is gone with no trace.
            Err(refused) => Err(refused.rejection),
            Ok(decision) => Ok(decision),
        }
    }

    /// `decide_command` without the alarm check: `fired` is the alarm the
    /// command consumes when it applies.
    fn decide_transition(
        &self,
        current: &AggregateState,
        input: &CommandInput<'_>,
        fired: Option<&str>,
    ) -> Result<Decision, Refused> {
        let command = input.command;
        let Some(entry) = self.commands.get(command) else {
            return Err(Rejection::UnknownCommand {
                aggregate_type: self.config.aggregate_type.clone(),
                command: command.to_owned(),
            }
            .into());
        };
        let Some(tried) = entry.by_state.get(current.state.as_str()) else {
            return Err(Rejection::InvalidTransition {
                command: command.to_owned(),
                state: current.state.clone(),
                allowed_from: entry.allowed_from.clone(),
            }
            .into());
        };
        let mut context: Option<Value> = None;
        let mut declined = String::new();
        // The reason of the first guard that could not be evaluated.
        let mut unevaluable: Option<String> = None;
        for &i in tried {
            let (Some(transition), Some(schema), Some(rules)) = (
                self.config.transitions.get(i),
                self.schemas.get(i),
                self.rules.get(i),
            ) else {
                continue;
            };
            if let Some(schema) = schema {
                let errors = schema.errors(input.payload);
                if !errors.is_empty() {
                    return Err(Rejection::SchemaViolation {
                        command: command.to_owned(),
                        errors,
                    }
                    .into());
                }
            }
            let payload = if rules.is_empty() {
                None
            } else {
                let data = context.get_or_insert_with(|| guard_evaluate::context(current, input));
                match guard_evaluate::try_rules(i, transition, rules, input.payload, data) {
                    Tried::Applies(payload) => payload,
                    Tried::Declined(reason) => {
                        declined = reason;
                        continue;
                    }
                    Tried::Unevaluable(reason) => {
                        unevaluable.get_or_insert_with(|| reason.clone());
                        declined = reason;
                        continue;
                    }
                    Tried::SetFailed(reason) => {
                        return Err(Refused {
                            rejection: Rejection::GuardFailed {
                                command: command.to_owned(),
                                reason,
                            },
                            rule_failed: true,
                        });
                    }
                }
            };
            let alarms = self
                .alarm_changes(i, current, input, fired, &mut context)
                .map_err(|reason| Refused {
                    rejection: Rejection::AlarmInvalid {
                        command: command.to_owned(),
                        reason,
                    },
                    rule_failed: true,
                })?;
            return Ok(Decision {
                event_type: transition.event.clone(),
                to_state: transition.to.clone(),
                payload,
                alarms,
            });
        }
        let rule_failed = unevaluable.is_some();
        let reason = match (fired, unevaluable) {
            (Some(_), Some(first)) => first,
            _ => declined,
        };
        Err(Refused {
            rejection: Rejection::GuardFailed {
                command: command.to_owned(),
                reason,
            },
            rule_failed,
        })
    }

    /// What transition `i`, applying to `current`, does to its alarms.
    fn alarm_changes(
        &self,
        i: usize,
        current: &AggregateState,
        input: &CommandInput<'_>,
        fired: Option<&str>,
        context: &mut Option<Value>,
    ) -> Result<Option<AlarmChanges>, String> {
        let (Some(own), Some(transition)) = (
            self.alarms.transitions.get(i),
            self.config.transitions.get(i),
        ) else {
            return Ok(None);
        };
        let creation = self
            .alarms
            .expiry
            .as_ref()
            .filter(|_| current.version == 0 && !own.sets_expiry());
        if fired.is_none() && own.clear.is_empty() && own.set.is_empty() && creation.is_none() {
            return Ok(None);
        }
        let name = transition_name(i, transition);
        let work = AlarmWork {
            transition: &name,
            fired,
            clear: &own.clear,
            set: creation.into_iter().chain(&own.set).collect(),
        };
        let mut data = || {
            context
                .get_or_insert_with(|| guard_evaluate::context(current, input))
                .clone()
        };
        alarm_evaluate::changes(&work, current, input, &mut data)
    }
}
