//! Alarms evaluated: what an accepted command does to its aggregate's
//! alarms, and the command a due alarm sends ([`alarm_command`]).
//!
//! An accepted command's alarm changes: a fired alarm
//! is consumed first, then the transition's `clear`, then its `set` (with
//! `expiry` at creation); a name set again replaces the old entry. Due
//! times are the command's `now` plus `after`, or the time `at` gives,
//! rounded up to the whole second.

use datalogic_rs::bumpalo::Bump;
use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::alarm::compile::{AlarmRule, When};
use crate::duration::{MAX_ALARM_YEARS, ceil_second, parse_time, within_bound};
use crate::ids::{alarm_command_id, event_id};
use crate::model::alarm::{Alarm, AlarmChanges, MAX_ALARMS};
use crate::model::command::{CommandInput, DerivedCommand, MAX_HOPS, hops_of};
use crate::model::state::AggregateState;
use crate::rule::{Rule, RuleContext, value_kind};

/// What one transition asks of the alarms.
pub(crate) struct AlarmWork<'a> {
    /// How the transition is named in reasons.
    pub(crate) transition: &'a str,
    /// The alarm that fired this command, when it is one (consumed).
    pub(crate) fired: Option<&'a str>,
    /// Names the transition clears.
    pub(crate) clear: &'a [String],
    /// Alarms it sets, `expiry` at creation first.
    pub(crate) set: Vec<&'a AlarmRule>,
}

/// The changes, `None` when there are none; the error is the reason of an
/// `alarm_invalid` rejection (names the transition and the alarm, never a
/// value).
pub(crate) fn changes(
    work: &AlarmWork<'_>,
    current: &AggregateState,
    input: &CommandInput<'_>,
    context: &mut dyn FnMut() -> Value,
) -> Result<Option<AlarmChanges>, String> {
    let mut alarms = current.alarms.clone();
    let mut changes = AlarmChanges::default();
    for name in work
        .fired
        .into_iter()
        .chain(work.clear.iter().map(String::as_str))
    {
        if let Some(old) = alarms.remove(name) {
            changes.cleared.push(old);
        }
    }
    let correlation_id = match input.metadata.get("correlationId") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        _ => None,
    };
    // An alarm's command counts as one more hop, as a reaction does.
    let hops = hops_of(input.metadata).saturating_add(1);
    let mut data: Option<Value> = None;
    for rule in &work.set {
        let failed = |why: &str| format!("{}: alarm `{}`: {why}", work.transition, rule.name);
        if hops > MAX_HOPS {
            return Err(failed(&format!(
                "hop limit: the command is {} reactions or alarms from its first command, \
                 and a chain stops at {MAX_HOPS}",
                hops - 1
            )));
        }
        let due = match &rule.when {
            When::After(after) => after
                .after(input.now)
                .ok_or_else(|| failed("its due time is out of range"))?,
            When::At(at) => {
                let data = data.get_or_insert_with(&mut *context);
                evaluate_at(at, data).map_err(|why| failed(&why))?
            }
        };
        let due = ceil_second(due).ok_or_else(|| failed("its due time is out of range"))?;
        if !within_bound(input.now, due) {
            return Err(failed(&format!(
                "it would be due more than {MAX_ALARM_YEARS} years from now"
            )));
        }
        let alarm = Alarm {
            name: rule.name.clone(),
            due,
            version: current.version.saturating_add(1),
            command: rule.command.clone(),
            payload: rule.payload.clone(),
            correlation_id: correlation_id.clone(),
            hops,
        };
        if let Some(old) = alarms.insert(rule.name.clone(), alarm.clone()) {
            changes.cleared.push(old);
        }
        changes.set.push(alarm);
    }
    if alarms.len() > MAX_ALARMS {
        return Err(format!(
            "{}: it would leave {} alarms set, over the cap of {MAX_ALARMS} per aggregate",
            work.transition,
            alarms.len()
        ));
    }
    Ok((!changes.is_empty()).then_some(changes))
}

/// The time an `at` rule gives; the error says what it gave instead, by
/// kind only.
fn evaluate_at(at: &Rule, data: &Value) -> Result<Timestamp, String> {
    let arena = Bump::new();
    let context = RuleContext::new(data, &arena).map_err(|err| format!("`at`: {err}"))?;
    match at.evaluate(&context) {
        Ok(Value::String(text)) => parse_time(&text)
            .ok_or_else(|| "`at` gave a string that is not an RFC 3339 time".to_owned()),
        Ok(other) => Err(format!(
            "`at` gave {} where an RFC 3339 time is needed",
            value_kind(&other)
        )),
        Err(err) => Err(format!("`at`: {err}")),
    }
}

/// The command a due alarm sends to its own aggregate, for every delivery
/// path: `commandId` `{aggregateType}#{aggregateId}@{version}/alarm/{name}`
/// (a SHA-256 when over 200 bytes, as reactions' ids are), so every copy of
/// one firing is one command; metadata `{alarm: {name, version},
/// causationId, correlationId, hops}`, where `causationId` is the setting
/// event's id, `correlationId` its correlation id (the causation id when the
/// alarm has none) and `hops` the alarm's (left out when 0).
pub fn alarm_command(aggregate_type: &str, aggregate_id: &str, alarm: &Alarm) -> DerivedCommand {
    let setting_event = event_id(aggregate_type, aggregate_id, alarm.version);
    let command_id = alarm_command_id(&setting_event, &alarm.name);
    let mut reference = Map::new();
    reference.insert("name".to_owned(), Value::String(alarm.name.clone()));
    reference.insert("version".to_owned(), Value::from(alarm.version));
    let correlation = alarm
        .correlation_id
        .clone()
        .unwrap_or_else(|| setting_event.clone());
    let mut metadata = Map::new();
    metadata.insert("alarm".to_owned(), Value::Object(reference));
    metadata.insert("causationId".to_owned(), Value::String(setting_event));
    metadata.insert("correlationId".to_owned(), Value::String(correlation));
    if alarm.hops > 0 {
        metadata.insert("hops".to_owned(), Value::from(alarm.hops));
    }
    DerivedCommand {
        command_id,
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        command: alarm.command.clone(),
        payload: alarm.payload.clone(),
        metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::alarm::AlarmRef;
    use crate::model::alarm::tests::alarm;
    use serde_json::json;

    #[test]
    fn the_alarm_command_is_deterministic_and_names_the_alarm() {
        let command = alarm_command("order", "o-1", &alarm("payment-timeout"));
        assert_eq!(command.command_id, "order#o-1@3/alarm/payment-timeout");
        assert_eq!(command.command, "PaymentTimedOut");
        assert_eq!(
            command.metadata,
            *json!({"alarm": {"name": "payment-timeout", "version": 3},
                    "causationId": "order#o-1@3", "correlationId": "flow-1"})
            .as_object()
            .unwrap()
        );
        assert_eq!(
            AlarmRef::of_metadata(&command.metadata),
            Some(AlarmRef {
                name: "payment-timeout".into(),
                version: 3
            })
        );
        let long = alarm_command("order", &"x".repeat(300), &alarm("a"));
        assert_eq!(long.command_id.len(), 64 + 2);
        assert!(long.command_id.ends_with("@a"));
    }
}
