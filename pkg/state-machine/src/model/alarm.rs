//! Alarms: what an aggregate has set (its [`Alarms`]), what one event did to
//! them ([`AlarmChanges`], stored with the event), the reference a fired
//! alarm's command carries ([`AlarmRef`], `metadata.alarm`), why a fired
//! alarm has no effect ([`Stale`]). docs/alarms.md has the model; a due
//! alarm's command is built by [`crate::alarm::evaluate::alarm_command`].

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most alarms one aggregate may have set at once (expiry included).
pub const MAX_ALARMS: usize = 16;

/// The name of the expiry alarm (`expiry` in the config).
pub const EXPIRY: &str = "expiry";

/// How early a firing may come and still apply, in seconds: EventBridge
/// Scheduler with its flexible window off fires within about a minute of the
/// time it is given, and clocks of two hosts differ by a little; an SQS delay
/// is never early. A command naming a set alarm that comes earlier than this
/// before the due time is refused as `alarm_not_due` (docs/alarms.md).
pub const ALARM_EARLY_TOLERANCE_SECONDS: i64 = 60;

/// One alarm an aggregate has set. Serializes camelCase, `due` as RFC 3339
/// text in UTC (whole seconds), `payload` and `correlationId` left out when
/// empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alarm {
    /// Its name, unique within the aggregate.
    pub name: String,
    /// When it is due.
    pub due: Timestamp,
    /// The aggregate's version after the event that set it.
    pub version: u64,
    /// The command it sends to its own aggregate when due.
    pub command: String,
    /// That command's payload.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub payload: Map<String, Value>,
    /// The correlation id of the event that set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
    /// The `hops` its command carries: the setting command's `hops` + 1, so
    /// a chain of alarms and reactions stops at [`MAX_HOPS`](crate::MAX_HOPS)
    /// like one of reactions. Left out when 0 (alarms stored before it
    /// existed read as 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hops: u64,
}

fn is_zero(hops: &u64) -> bool {
    *hops == 0
}

impl Alarm {
    /// True when a firing at `now` may apply: `now` is at most
    /// [`ALARM_EARLY_TOLERANCE_SECONDS`] before `due`.
    pub fn is_due(&self, now: Timestamp) -> bool {
        let early = jiff::SignedDuration::from_secs(ALARM_EARLY_TOLERANCE_SECONDS);
        match now.checked_add(early) {
            Ok(later) => later >= self.due,
            Err(_) => true,
        }
    }
}

/// An aggregate's alarms, by name.
pub type Alarms = BTreeMap<String, Alarm>;

/// What one event did to its aggregate's alarms; stored with the event, so a
/// replay never evaluates a rule or reads a clock, and the event processor
/// knows what to schedule and what to delete.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmChanges {
    /// Alarms set by the event (a name set again replaces the old entry,
    /// which is then in `cleared`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<Alarm>,
    /// Whole entries of the alarms the event removed: cleared, replaced, or
    /// consumed by firing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<Alarm>,
}

impl AlarmChanges {
    /// True when the event changes no alarm.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.cleared.is_empty()
    }
}

/// `metadata.alarm` of a fired alarm's command: which alarm, set by which
/// version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmRef {
    /// The alarm's name.
    pub name: String,
    /// The version of the event that set it.
    pub version: u64,
}

impl AlarmRef {
    /// The alarm a command's metadata names, when `metadata.alarm` is an
    /// object with a string `name` and a whole-number `version`.
    pub fn of_metadata(metadata: &Map<String, Value>) -> Option<AlarmRef> {
        let alarm = metadata.get("alarm")?.as_object()?;
        Some(AlarmRef {
            name: alarm.get("name")?.as_str()?.to_owned(),
            version: alarm.get("version")?.as_u64()?,
        })
    }
}

/// Why a fired alarm has no effect. Not a failure: the command is
/// acknowledged, no event is written, nothing is dead-lettered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Stale {
    /// The aggregate has no alarm of that name (cleared before it fired,
    /// or already consumed by an earlier copy).
    NotSet,
    /// The alarm of that name was set again by a later event.
    Replaced {
        /// The version that set the current one.
        by_version: u64,
    },
    /// The alarm is still set, but its command no longer applies (the
    /// aggregate moved on to a state without that transition, or a guard
    /// or schema refuses it).
    MovedOn,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stale::NotSet => f.write_str("the alarm is no longer set"),
            Stale::Replaced { by_version } => {
                write!(f, "the alarm was set again by version {by_version}")
            }
            Stale::MovedOn => f.write_str("the alarm's command no longer applies"),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A payment-timeout-like alarm set by version 3, for the crate's tests.
    pub(crate) fn alarm(name: &str) -> Alarm {
        Alarm {
            name: name.to_owned(),
            due: "2030-01-02T03:04:05Z".parse().unwrap(),
            version: 3,
            command: "PaymentTimedOut".to_owned(),
            payload: Map::new(),
            correlation_id: Some("flow-1".to_owned()),
            hops: 0,
        }
    }

    #[test]
    fn an_alarm_serializes_with_rfc3339_due_and_skips_empties() {
        let mut a = alarm("payment-timeout");
        a.correlation_id = None;
        let text = serde_json::to_value(&a).unwrap();
        assert_eq!(
            text,
            json!({"name": "payment-timeout", "due": "2030-01-02T03:04:05Z", "version": 3,
                   "command": "PaymentTimedOut"})
        );
        assert_eq!(serde_json::from_value::<Alarm>(text).unwrap(), a);
    }

    #[test]
    fn a_malformed_alarm_reference_is_none() {
        for metadata in [
            json!({}),
            json!({"alarm": "x"}),
            json!({"alarm": {"name": "a"}}),
            json!({"alarm": {"name": 1, "version": 1}}),
            json!({"alarm": {"name": "a", "version": -1}}),
        ] {
            assert_eq!(AlarmRef::of_metadata(metadata.as_object().unwrap()), None);
        }
    }
}
