//! The records the handler reads and writes: aggregate keys, events,
//! the idempotency facts of applied commands and the commit that appends them
//! together.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use state_machine::{AggregateState, AlarmChanges};

/// Identifies one aggregate. Displays as the table's partition key,
/// `{aggregateType}#{aggregateId}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateKey {
    /// The aggregate type, which names its config.
    pub aggregate_type: String,
    /// The aggregate's id within its type.
    pub aggregate_id: String,
}

impl AggregateKey {
    /// A key from its two parts.
    pub fn new(aggregate_type: impl Into<String>, aggregate_id: impl Into<String>) -> Self {
        Self {
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
        }
    }
}

impl fmt::Display for AggregateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.aggregate_type, self.aggregate_id)
    }
}

/// One stored event (docs/reference.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The aggregate's version after this event: 1, 2, 3 … gapless.
    pub version: u64,
    /// The transition's `event`.
    pub event_type: String,
    /// The aggregate's state after this event.
    pub state: String,
    /// The command's payload.
    pub payload: Map<String, Value>,
    /// The command that produced it.
    pub command_id: String,
    /// The command's metadata.
    pub metadata: Map<String, Value>,
    /// RFC 3339 UTC timestamp.
    pub recorded_at: String,
    /// `version` of the config that accepted it.
    pub config_version: u64,
    /// What the event did to its aggregate's alarms, when it changed any
    /// (docs/alarms.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmChanges>,
}

impl Event {
    /// Folds this event into `state`: [`AggregateState::apply`] with its
    /// state and payload, then its alarm changes, as the handler does.
    pub fn apply_to(&self, state: &mut AggregateState) {
        state.apply(&self.state, &self.payload);
        if let Some(changes) = &self.alarms {
            state.apply_alarms(changes);
        }
    }
}

/// What makes one applied command idempotent: written in the same atomic
/// append as its event (the DynamoDB store keeps it on the event item), so a
/// command id is either applied with its record or not at all. Scoped to its
/// aggregate: the same id on another aggregate is another command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRecord {
    /// The command id, unique within its aggregate.
    pub command_id: String,
    /// The aggregate it was applied to.
    pub key: AggregateKey,
    /// [`fingerprint`] of the command: a reuse of the id for another command
    /// or payload is told apart from a redelivery by it.
    pub fingerprint: String,
    /// The aggregate's version after the command (its event's version).
    pub version: u64,
}

/// Everything one atomic append writes for one aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Commit {
    /// The aggregate.
    pub key: AggregateKey,
    /// The version the aggregate must be at for the append to succeed.
    pub expected_version: u64,
    /// The new events, versions `expected_version + 1 ..` in order.
    pub events: Vec<Event>,
    /// One idempotency record per event, in the same order.
    pub commands: Vec<CommandRecord>,
    /// The aggregate's data after each event, one per event in the same
    /// order (the last is `head.data`): a store may keep it with the event,
    /// so that its newest event is its head.
    pub data_after: Vec<Map<String, Value>>,
    /// The aggregate's state after the last event (the head/snapshot).
    pub head: AggregateState,
}

impl Commit {
    /// The version after this commit.
    pub fn new_version(&self) -> u64 {
        self.expected_version + self.events.len() as u64
    }
}

/// [`state_machine::ids::fingerprint`] of a command to `key`: a reuse of
/// its id for another command or payload is told apart from a redelivery by
/// it (the scheme is in that module's table).
pub fn fingerprint(key: &AggregateKey, command: &str, payload: &Map<String, Value>) -> String {
    state_machine::ids::fingerprint(&key.aggregate_type, &key.aggregate_id, command, payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprint_is_the_sha256_of_a_fixed_text() {
        // `["order","o-1","Create",{"a":1,"b":[1,2],"z":{"x":null,"y":"é"}}]`:
        // stored fingerprints are compared with new ones, so this never changes.
        let key = AggregateKey::new("order", "o-1");
        let payload = json!({"z": {"y": "é", "x": null}, "b": [1, 2.0], "a": 1});
        assert_eq!(
            fingerprint(&key, "Create", payload.as_object().unwrap()),
            "a0fbb2754d07ed4273753c58e5c5e1ec87ab32ead4b54231a4c3f4f3e1b70e89"
        );
    }

    #[test]
    fn fingerprint_ignores_key_order_but_not_values() {
        let key = AggregateKey::new("order", "o-1");
        let a = json!({"a": 1, "b": {"x": 1, "y": 2}});
        let b = json!({"b": {"y": 2, "x": 1}, "a": 1});
        let c = json!({"a": 2, "b": {"x": 1, "y": 2}});
        let fp = |v: &Value| fingerprint(&key, "C", v.as_object().unwrap());
        assert_eq!(fp(&a), fp(&b));
        assert_ne!(fp(&a), fp(&c));
        assert_ne!(fp(&json!({"a": 1})), fp(&json!({"a": 1.5})));
        assert_ne!(
            fp(&a),
            fingerprint(
                &AggregateKey::new("order", "o-2"),
                "C",
                a.as_object().unwrap()
            )
        );
    }

    #[test]
    fn fingerprint_takes_integral_floats_as_integers() {
        let key = AggregateKey::new("order", "o-1");
        let fp = |text: &str| {
            let payload: Map<String, Value> = serde_json::from_str(text).unwrap();
            fingerprint(&key, "C", &payload)
        };
        let int = fp(r#"{"q": 1, "n": [0, 100, -3], "m": {"x": 9007199254740992}}"#);
        for same in [
            r#"{"q": 1.0, "n": [0.0, 100.0, -3.0], "m": {"x": 9007199254740992.0}}"#,
            r#"{"q": 1e0, "n": [-0.0, 1e2, -3.00], "m": {"x": 9.007199254740992e15}}"#,
        ] {
            assert_eq!(fp(same), int, "{same}");
        }
        assert_ne!(fp(r#"{"q": 1.5}"#), fp(r#"{"q": 1}"#));
        assert_ne!(fp(r#"{"q": "1"}"#), fp(r#"{"q": 1}"#));
        // Beyond 2^53 a float is left as it is (the envelope refuses it anyway).
        assert_ne!(fp(r#"{"q": 1e300}"#), fp(r#"{"q": 1}"#));
    }
}
