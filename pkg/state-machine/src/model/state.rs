//! An aggregate's state and the fold that applies one event to it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::alarm::{AlarmChanges, Alarms};

/// An aggregate's state: `{ "state": <name>, "version": <n>, "data": <object> }`,
/// and `"alarms"` (by name) when it has alarms set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateState {
    /// Name of the current state.
    pub state: String,
    /// Number of events applied so far (0 = does not exist yet).
    pub version: u64,
    /// Every event payload merged in with JSON Merge Patch (RFC 7386).
    pub data: Map<String, Value>,
    /// The alarms it has set, by name (docs/alarms.md).
    #[serde(default, skip_serializing_if = "Alarms::is_empty")]
    pub alarms: Alarms,
}

impl AggregateState {
    /// Applies one event: `state` becomes `to_state`, `version` goes up by one, and
    /// `payload` is merged into `data` as a JSON Merge Patch (RFC 7386): nested
    /// objects merge, `null` removes a key, anything else (arrays included) replaces.
    pub fn apply(&mut self, to_state: &str, payload: &Map<String, Value>) {
        let mut doc = Value::Object(std::mem::take(&mut self.data));
        json_patch::merge(&mut doc, &Value::Object(payload.clone()));
        // An object patch always leaves an object behind.
        if let Value::Object(data) = doc {
            self.data = data;
        }
        to_state.clone_into(&mut self.state);
        self.version = self.version.saturating_add(1);
    }

    /// Applies one event's alarm changes: every cleared name is removed,
    /// then every set alarm is inserted (replacing one of the same name).
    pub fn apply_alarms(&mut self, changes: &AlarmChanges) {
        for alarm in &changes.cleared {
            self.alarms.remove(&alarm.name);
        }
        for alarm in &changes.set {
            self.alarms.insert(alarm.name.clone(), alarm.clone());
        }
    }
}
