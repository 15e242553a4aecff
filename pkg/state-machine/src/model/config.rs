//! The config document: one JSON file per aggregate type (docs/reference.md §2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A state-machine config as written in JSON (`camelCase`, unknown fields refused).
///
/// Parsing only checks the shape; [`StateMachine::from_config`](crate::StateMachine::from_config)
/// checks the meaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// The aggregate type this machine governs, e.g. `"order"`.
    pub aggregate_type: String,
    /// The config's own version number.
    pub version: u64,
    /// The state of an aggregate that has no events yet.
    pub initial_state: String,
    /// Every state name, each once.
    pub states: Vec<String>,
    /// The commands and where they lead.
    pub transitions: Vec<Transition>,
    /// True when this type's events are published (docs/reference.md §2);
    /// absent means false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub publish: bool,
    /// The expiry alarm (named `expiry`), set by the event that creates an
    /// aggregate (docs/reference.md §2); absent means none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<ExpirySpec>,
    /// Outside events (EventBridge) bound to this type's commands
    /// (docs/reference.md §2); absent means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<BindingSpec>,
}

/// One command accepted from one or more states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transition {
    /// Name of the command.
    pub command: String,
    /// The states the command is accepted in.
    pub from: Vec<String>,
    /// The state after the event.
    pub to: String,
    /// The event type recorded when the command is accepted.
    pub event: String,
    /// Optional JSON Schema (draft 2020-12) the payload must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_schema: Option<Value>,
    /// A JSON Logic rule (or a literal boolean): the transition applies only
    /// when it evaluates to a truthy value. Rules see the aggregate before the
    /// command (docs/reference.md §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<Value>,
    /// The reason given when this guard is the last one tried and does not hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard_message: Option<String>,
    /// Computed values: field -> literal or rule; the results are written into
    /// the event's payload (over same-named fields) before the fold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<Map<String, Value>>,
    /// The commands that follow this transition's event (its reactions), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<ReactionSpec>,
    /// The alarms of its own aggregate this transition's event sets and clears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmsSpec>,
}

/// A transition's `alarms`: which it sets and which it clears. Clears come
/// first, then sets; a name set again replaces the alarm of that name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmsSpec {
    /// Alarms set (or set again) by the event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<AlarmSpec>,
    /// Names of alarms cleared by the event (a name not set is ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear: Vec<String>,
}

/// One alarm in `alarms.set`: exactly one of `after` and `at`, except for
/// `expiry`, whose `command`, `after` and `payload` default to the config's
/// `expiry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlarmSpec {
    /// `[A-Za-z0-9_.-]{1,64}`, unique within the aggregate.
    pub name: String,
    /// An ISO 8601 duration from the command's time (`PT15M`, `P1D`), at most `P10Y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// A literal RFC 3339 time, or a JSON Logic rule giving one (rules see
    /// what guards see); a time in the past fires at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Value>,
    /// The command sent to the aggregate when the alarm is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// That command's payload: a literal object (default `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// The config's `expiry`: the alarm `expiry`, set by the event that creates
/// an aggregate (unless that transition sets `expiry` itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExpirySpec {
    /// An ISO 8601 duration; absent means `P1Y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The command sent when the aggregate expires (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// That command's payload: a literal object (default `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
}

/// One reaction as written in a transition's `then`: the command that follows
/// the event. `aggregateType` and `aggregateId` default to the event's own
/// aggregate; `payload` to an empty object. Every value is a literal or a
/// JSON Logic rule over the event (compiled once, when the config is loaded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReactionSpec {
    /// The target aggregate's type (default: the event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_type: Option<Value>,
    /// The target aggregate's id (default: the event's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate_id: Option<Value>,
    /// The command's name.
    pub command: Value,
    /// The command's payload: each field a literal or a rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Map<String, Value>>,
}

/// One binding: an outside event (EventBridge `source` and `detail-type`)
/// that becomes a command of this config's type. `aggregateId`, `payload`
/// and `expectedVersion` are literals or JSON Logic rules over the whole
/// event (`{version, id, source, detail-type, detail, ...}`), compiled once
/// when the config is loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BindingSpec {
    /// The event's `source`, e.g. `"payments.provider"`.
    pub source: String,
    /// The event's `detail-type`, e.g. `"PaymentSucceeded"`.
    pub detail_type: String,
    /// The command of this config's type the event becomes.
    pub command: String,
    /// The target aggregate's id: a literal or a rule.
    pub aggregate_id: Value,
    /// The command's payload: each field a literal or a rule (default `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Map<String, Value>>,
    /// The version the aggregate must be at: a literal or a rule (default:
    /// none asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_version: Option<Value>,
}

/// How a binding is named in faults and failures:
/// ``bindings[0] (`payments.provider` `PaymentSucceeded` -> `ConfirmCharge`)``.
pub(crate) fn binding_name(index: usize, b: &BindingSpec) -> String {
    format!(
        "bindings[{index}] (`{}` `{}` -> `{}`)",
        b.source, b.detail_type, b.command
    )
}

/// How a transition is named in rejections and faults:
/// ``transitions[2] (`Reserve` -> `StockReserved`)``.
pub(crate) fn transition_name(index: usize, t: &Transition) -> String {
    format!("transitions[{index}] (`{}` -> `{}`)", t.command, t.event)
}
