//! Bindings evaluated: the command an outside event becomes
//! (docs/reference.md §2, `bindings`).
//!
//! The whole event is the rules' data (`{version, id, source, detail-type,
//! detail, ...}`, as EventBridge delivers it). The command's id is
//! `{source}/{id}` ([`binding_command_id`]), so every delivery of one event
//! is one command; its `correlationId` is the event's
//! `detail.metadata.correlationId` when that is a non-empty string (an
//! event this system published), else the event's `id`.

use datalogic_rs::bumpalo::Bump;
use serde_json::{Map, Value};

use crate::binding::compile::CompiledBinding;
use crate::ids::binding_command_id;
use crate::machine::StateMachine;
use crate::model::command::BoundCommand;
use crate::model::config::binding_name;
use crate::rule::{Rule, RuleContext, value_kind};

/// Why a binding could not build its command from an event. Permanent: the
/// same event and config fail the same way. The reason names the field,
/// never a value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{binding} of event `{event_id}`: {reason}")]
pub struct BindingError {
    /// The binding, as ``bindings[0] (`source` `detail-type` -> `Command`)``.
    pub binding: String,
    /// The event's `id`.
    pub event_id: String,
    /// What went wrong (names the field, never its value).
    pub reason: String,
}

impl StateMachine {
    /// The index of the binding of `source` and `detail_type` in this
    /// config's `bindings`, when it has one (validation allows one at most).
    pub fn binding_of(&self, source: &str, detail_type: &str) -> Option<usize> {
        self.config()
            .bindings
            .iter()
            .position(|b| b.source == source && b.detail_type == detail_type)
    }

    /// How the binding of `source` and `detail_type` is named in failures
    /// (``bindings[0] (`payments.provider` `PaymentSucceeded` -> `ConfirmCharge`)``).
    pub fn binding_name(&self, source: &str, detail_type: &str) -> Option<String> {
        let index = self.binding_of(source, detail_type)?;
        Some(binding_name(index, &self.config().bindings[index]))
    }

    /// The command `event` (an EventBridge event as JSON: `version`, `id`,
    /// `source`, `detail-type`, `detail`) becomes through this config's
    /// binding of its `source` and `detail-type`; `None` when it has none.
    ///
    /// ```
    /// use serde_json::json;
    /// use state_machine::StateMachine;
    ///
    /// let machine = StateMachine::from_json(br#"{
    ///   "aggregateType": "payment", "version": 1, "initialState": "Pending",
    ///   "states": ["Pending", "Confirmed"],
    ///   "transitions": [ { "command": "ConfirmCharge", "from": ["Pending"],
    ///                      "to": "Confirmed", "event": "ChargeConfirmed" } ],
    ///   "bindings": [ { "source": "payments.provider", "detailType": "PaymentSucceeded",
    ///                   "command": "ConfirmCharge", "aggregateId": { "var": "detail.orderId" },
    ///                   "payload": { "reference": { "var": "detail.ref" } } } ]
    /// }"#)?;
    /// let event = json!({ "version": "0", "id": "e-1", "source": "payments.provider",
    ///                     "detail-type": "PaymentSucceeded",
    ///                     "detail": { "orderId": "o-1", "ref": "r-9" } });
    /// let command = machine.bind(&event).expect("bound")?;
    /// assert_eq!(command.command_id, "payments.provider/e-1");
    /// assert_eq!((command.aggregate_id.as_str(), command.command.as_str()), ("o-1", "ConfirmCharge"));
    /// assert_eq!(command.payload["reference"], "r-9");
    /// assert_eq!(command.metadata["correlationId"], "e-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind(&self, event: &Value) -> Option<Result<BoundCommand, BindingError>> {
        let text = |field: &str| event.get(field).and_then(Value::as_str).unwrap_or_default();
        let (source, detail_type) = (text("source"), text("detail-type"));
        let index = self.binding_of(source, detail_type)?;
        let spec = &self.config().bindings[index];
        let event_id = text("id");
        let failed = |reason: String| BindingError {
            binding: binding_name(index, spec),
            event_id: event_id.to_owned(),
            reason,
        };
        let Some(Some(binding)) = self.compiled_bindings().get(index) else {
            return Some(Err(failed("the binding did not compile".to_owned())));
        };
        if event_id.is_empty() {
            return Some(Err(failed("the event has no `id`".to_owned())));
        }
        let null = Value::Null;
        let data = if binding.reads_the_event() {
            event
        } else {
            &null
        };
        let arena = Bump::new();
        let built = RuleContext::new(data, &arena)
            .map_err(|err| err.to_string())
            .and_then(|context| build(binding, &context))
            .map_err(failed);
        Some(built.map(|(aggregate_id, payload, expected_version)| {
            let correlation = match event.pointer("/detail/metadata/correlationId") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                _ => event_id.to_owned(),
            };
            let mut metadata = Map::new();
            metadata.insert("correlationId".to_owned(), Value::String(correlation));
            BoundCommand {
                command_id: binding_command_id(source, event_id),
                aggregate_type: self.aggregate_type().to_owned(),
                aggregate_id,
                command: spec.command.clone(),
                payload,
                expected_version,
                metadata,
            }
        }))
    }
}

/// What a binding's rules build: the aggregate id, the payload and the
/// expected version.
type Built = (String, Map<String, Value>, Option<u64>);

/// What the binding builds; the error names the field, never its value.
fn build(binding: &CompiledBinding, context: &RuleContext<'_>) -> Result<Built, String> {
    let value = |rule: &Rule, field: &str| {
        rule.evaluate(context)
            .map_err(|err| format!("`{field}`: {err}"))
    };
    let aggregate_id = match value(&binding.aggregate_id, "aggregateId")? {
        Value::String(s) if !s.is_empty() => s,
        Value::Number(n) => n.to_string(),
        Value::String(_) => {
            return Err(
                "`aggregateId` must be a non-empty string or a number, the rule gave \
                        an empty string"
                    .to_owned(),
            );
        }
        other => {
            return Err(format!(
                "`aggregateId` must be a non-empty string or a number, the rule gave {}",
                value_kind(&other)
            ));
        }
    };
    let mut payload = Map::new();
    for (field, rule) in &binding.payload {
        payload.insert(field.clone(), value(rule, &format!("payload.{field}"))?);
    }
    let expected_version = match &binding.expected_version {
        None => None,
        Some(rule) => match value(rule, "expectedVersion")? {
            Value::Null => None,
            Value::Number(n) if n.is_u64() => n.as_u64(),
            other => {
                return Err(format!(
                    "`expectedVersion` must be a non-negative integer or null, the rule gave {}",
                    value_kind(&other)
                ));
            }
        },
    };
    Ok((aggregate_id, payload, expected_version))
}
