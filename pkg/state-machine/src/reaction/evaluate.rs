//! Reactions evaluated: the commands a stored event causes, built from the `then` of
//! the transition that recorded it (docs/reference.md §2).
//!
//! The event's reactions are those of the transitions whose `event` is the
//! event's type and whose `to` is its state; validation makes them agree.
//! Each built command carries a deterministic id (`{pk}@{version}/{index}`,
//! or `{pk}@{version}/v{configVersion}/{index}` when built by another config
//! version than the one that recorded the event),
//! so a replayed event sends the same ids, and correlation/causation metadata.

use datalogic_rs::bumpalo::Bump;
use serde_json::{Map, Value, json};

use crate::ids::{event_id, reaction_command_id};
use crate::machine::StateMachine;
use crate::model::command::{DerivedCommand, EventView, MAX_HOPS, hops_of};
use crate::reaction::compile::CompiledReaction;
use crate::rule::{Rule, RuleContext, value_kind};

/// Why one reaction of one event could not be built. Permanent: the same
/// event and config fail the same way. The reason never quotes a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("reaction {index} ({}) of {event_id}: {reason}", command.as_deref().unwrap_or("command not literal"))]
pub struct ReactionError {
    /// The reaction's position in `then`, from 0.
    pub index: usize,
    /// The command's name, when it is a literal.
    pub command: Option<String>,
    /// The event's id, `{pk}@{version}`.
    pub event_id: String,
    /// What went wrong (names the field, never its value).
    pub reason: String,
}

impl StateMachine {
    /// True when this type's events are published (`publish` in the config).
    pub fn publishes(&self) -> bool {
        self.config().publish
    }

    /// True when some transition records `event_type` into `state`: an
    /// event for which none does was recorded under another config.
    pub fn records(&self, event_type: &str, state: &str) -> bool {
        self.then_of(event_type, state).is_some()
    }

    /// The reactions of this stored event, in `then` order: empty when the
    /// transitions that record this event into this state list none, or
    /// when no transition does (the config changed since). Each is built or
    /// says why it could not be; one failing never stops the others.
    pub fn reactions(&self, event: &EventView<'_>) -> Vec<Result<DerivedCommand, ReactionError>> {
        let Some(then) = self.then_of(event.event_type, event.state) else {
            return Vec::new();
        };
        if then.is_empty() {
            return Vec::new();
        }
        let data = if then.iter().any(CompiledReaction::reads_the_event) {
            context(event)
        } else {
            Value::Null
        };
        let event_id = event_id(event.aggregate_type, event.aggregate_id, event.version);
        let hops = hops_of(event.metadata).saturating_add(1);
        let arena = Bump::new();
        let context = RuleContext::new(&data, &arena);
        then.iter()
            .enumerate()
            .map(|(index, reaction)| {
                let failed = |reason: String| ReactionError {
                    index,
                    command: reaction
                        .command
                        .literal()
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    event_id: event_id.clone(),
                    reason,
                };
                if hops > MAX_HOPS {
                    return Err(failed(format!(
                        "hop limit: the event is {} reactions from its first command, and a \
                         chain stops at {MAX_HOPS}",
                        hops - 1
                    )));
                }
                let context = context.as_ref().map_err(|err| failed(err.to_string()))?;
                build(reaction, event, context)
                    .map(|mut command| {
                        command.command_id = reaction_command_id(
                            &event_id,
                            index,
                            event.config_version,
                            self.version(),
                        );
                        command.metadata = metadata(event, &event_id, hops);
                        command
                    })
                    .map_err(failed)
            })
            .collect()
    }
}

/// What rules see: `{aggregateType, aggregateId, state, version, data,
/// eventType, payload, metadata}`.
fn context(event: &EventView<'_>) -> Value {
    json!({
        "aggregateType": event.aggregate_type,
        "aggregateId": event.aggregate_id,
        "state": event.state,
        "version": event.version,
        "data": event.data,
        "eventType": event.event_type,
        "payload": event.payload,
        "metadata": event.metadata,
    })
}

/// `correlationId`: the event's own when it is a string, else its command
/// id; `causationId`: the event's id; `hops`: how many reactions led here.
fn metadata(event: &EventView<'_>, event_id: &str, hops: u64) -> Map<String, Value> {
    let correlation = match event.metadata.get("correlationId") {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        _ => event.command_id.to_owned(),
    };
    let mut metadata = Map::new();
    metadata.insert("correlationId".to_owned(), Value::String(correlation));
    metadata.insert("causationId".to_owned(), Value::String(event_id.to_owned()));
    metadata.insert("hops".to_owned(), Value::from(hops));
    metadata
}

/// The command of one reaction, ids and metadata left empty. The error
/// names the field, never its value.
fn build(
    reaction: &CompiledReaction,
    event: &EventView<'_>,
    context: &RuleContext<'_>,
) -> Result<DerivedCommand, String> {
    let value = |rule: &Rule, field: &str| {
        rule.evaluate(context)
            .map_err(|err| format!("`{field}`: {err}"))
    };
    let name = |rule: Option<&Rule>, field: &str, default: &str, number: bool| {
        let Some(rule) = rule else {
            return Ok(default.to_owned());
        };
        match value(rule, field)? {
            Value::String(s) if !s.is_empty() => Ok(s),
            Value::Number(n) if number => Ok(n.to_string()),
            other => Err(format!(
                "`{field}` must be a non-empty string{}, the rule gave {}",
                if number { " or a number" } else { "" },
                match other {
                    // Only an empty string gets here.
                    Value::String(_) => "an empty string",
                    other => value_kind(&other),
                }
            )),
        }
    };
    let aggregate_type = name(
        reaction.aggregate_type.as_ref(),
        "aggregateType",
        event.aggregate_type,
        false,
    )?;
    let aggregate_id = name(
        reaction.aggregate_id.as_ref(),
        "aggregateId",
        event.aggregate_id,
        true,
    )?;
    let command = name(Some(&reaction.command), "command", "", false)?;
    let mut payload = Map::new();
    for (field, rule) in &reaction.payload {
        payload.insert(field.clone(), value(rule, &format!("payload.{field}"))?);
    }
    Ok(DerivedCommand {
        command_id: String::new(),
        aggregate_type,
        aggregate_id,
        command,
        payload,
        metadata: Map::new(),
    })
}
