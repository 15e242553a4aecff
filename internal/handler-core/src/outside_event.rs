//! Outside events on the command queue (docs/reference.md §1, *An outside
//! event*): a body that is an EventBridge event is recognised
//! ([`outside_event`]) and becomes a command through the one binding of its
//! `source` and `detail-type` across the configs ([`bind_event`]); from
//! there it is an ordinary command. Every other body is left to
//! [`parse_command`](crate::envelope::parse_command), as strict as ever.

use std::sync::Arc;

use serde_json::{Map, Value};
use state_machine::{BindingError, StateMachine};

use crate::config_source::{ConfigSource, ConfigSourceError};
use crate::envelope::{
    Command, EnvelopeError, MAX_BODY_BYTES, MAX_COMMAND_ID_BYTES, check_text, parse_command,
};
use crate::failure::{Failure, Permanent, Transient};

/// The members that make a body an EventBridge event.
pub const EVENT_MEMBERS: [&str; 5] = ["version", "id", "source", "detail-type", "detail"];

/// An EventBridge event taken from a message body.
#[derive(Debug, Clone, PartialEq)]
pub struct OutsideEvent {
    /// Its `id`.
    pub id: String,
    /// Its `source`.
    pub source: String,
    /// Its `detail-type`.
    pub detail_type: String,
    /// The whole event, as the bindings' rules read it.
    pub value: Value,
}

/// The body as an outside event: `None` when it is not one (it lacks one
/// of [`EVENT_MEMBERS`], or is not a JSON object), so it is read as a
/// command message; else the event, or why it is refused: `too_large` over
/// [`MAX_BODY_BYTES`], `malformed_message` when `version`, `id`, `source`
/// or `detail-type` is not a string or `detail` not an object, or the id
/// is not one a `commandId` could be.
///
/// ```
/// use handler_core::outside_event::outside_event;
/// let body = r#"{"version":"0","id":"e-1","source":"payments.provider",
///                "detail-type":"PaymentSucceeded","detail":{"orderId":"o-1"}}"#;
/// let event = outside_event(body).expect("an event").expect("well formed");
/// assert_eq!((event.source.as_str(), event.id.as_str()), ("payments.provider", "e-1"));
/// assert!(outside_event(r#"{"aggregateType":"order"}"#).is_none());
/// ```
pub fn outside_event(body: &str) -> Option<Result<OutsideEvent, Permanent>> {
    // A command message never holds this text outside its payload; most
    // bodies are commands and are not parsed twice.
    if !body.contains("\"detail-type\"") {
        return None;
    }
    let Ok(Value::Object(members)) = serde_json::from_str::<Value>(body) else {
        return None;
    };
    if !EVENT_MEMBERS.iter().all(|m| members.contains_key(*m)) {
        return None;
    }
    Some(event_of(members, body.len()))
}

fn event_of(members: Map<String, Value>, size: usize) -> Result<OutsideEvent, Permanent> {
    let malformed = |detail: String| Permanent::Envelope(EnvelopeError::Malformed { detail });
    let text = |field: &str| match members.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(malformed(format!(
            "an EventBridge event's `{field}` must be a string"
        ))),
    };
    let id = text("id")?;
    check_text("id", &id, MAX_COMMAND_ID_BYTES, false).map_err(|e| {
        malformed(format!(
            "the EventBridge event's id cannot name a command: {e}"
        ))
    })?;
    if size > MAX_BODY_BYTES {
        return Err(Permanent::TooLarge(format!(
            "event `{id}` is {size} bytes, over the {MAX_BODY_BYTES}-byte limit of a message"
        )));
    }
    let (source, detail_type) = (text("source")?, text("detail-type")?);
    text("version")?;
    if !members.get("detail").is_some_and(Value::is_object) {
        return Err(malformed(format!(
            "event `{id}`: an EventBridge event's `detail` must be a JSON object"
        )));
    }
    Ok(OutsideEvent {
        id,
        source,
        detail_type,
        value: Value::Object(members),
    })
}

/// The machines that bind `source` and `detail_type`, as
/// [`ConfigSource::bound_by`] gives them; what [`bind_event`] reads.
pub type Bound = Result<Vec<Arc<StateMachine>>, ConfigSourceError>;

/// The command `event` becomes, given the machines that bind it
/// (`bound`, from [`ConfigSource::bound_by`]): `unbound_event` when none
/// does, `ambiguous_binding` when more than one, `binding_failed` when the
/// binding's rules fail or build a command the envelope refuses (checked
/// as a body, with `message_id` standing in as usual), `too_large` when
/// the command would be over [`MAX_BODY_BYTES`]; a config that cannot be
/// read is transient.
pub fn bind_event(event: &OutsideEvent, bound: &Bound) -> Result<Command, Failure> {
    let machines = bound
        .as_ref()
        .map_err(|e| Failure::Transient(Transient::Config(e.clone())))?;
    let machine = match machines.as_slice() {
        [] => return Err(unbound(event).into()),
        [one] => one,
        many => {
            return Err(Permanent::AmbiguousBinding {
                event_id: event.id.clone(),
                event_source: event.source.clone(),
                detail_type: event.detail_type.clone(),
                aggregate_types: many.iter().map(|m| m.aggregate_type().to_owned()).collect(),
            }
            .into());
        }
    };
    let built = match machine.bind(&event.value) {
        None => return Err(unbound(event).into()),
        Some(built) => built.map_err(Permanent::BindingFailed)?,
    };
    let failed = |reason: String| {
        Permanent::BindingFailed(BindingError {
            binding: machine
                .binding_name(&event.source, &event.detail_type)
                .unwrap_or_default(),
            event_id: event.id.clone(),
            reason,
        })
    };
    let body = serde_json::to_string(&built)
        .map_err(|e| failed(format!("the command cannot be written: {e}")))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(Permanent::TooLarge(format!(
            "the command built from event `{}` is {} bytes, over the {MAX_BODY_BYTES}-byte limit",
            event.id,
            body.len()
        ))
        .into());
    }
    parse_command(&body, &built.command_id).map_err(|e| failed(e.to_string()).into())
}

fn unbound(event: &OutsideEvent) -> Permanent {
    Permanent::UnboundEvent {
        event_id: event.id.clone(),
        event_source: event.source.clone(),
        detail_type: event.detail_type.clone(),
    }
}

/// [`outside_event`] and [`bind_event`] in one, asking `configs` for the
/// binding: `None` when the body is no outside event.
pub async fn command_of_event<C: ConfigSource + ?Sized>(
    configs: &C,
    body: &str,
) -> Option<Result<Command, Failure>> {
    let event = match outside_event(body)? {
        Ok(event) => event,
        Err(refused) => return Some(Err(refused.into())),
    };
    let bound = configs.bound_by(&event.source, &event.detail_type).await;
    Some(bind_event(&event, &bound))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(detail: Value) -> String {
        json!({"version": "0", "id": "e-1", "source": "s", "detail-type": "d", "detail": detail})
            .to_string()
    }

    fn refused(body: &str) -> Permanent {
        outside_event(body).expect("an event").unwrap_err()
    }

    #[test]
    fn an_event_needs_every_member_and_their_shapes() {
        assert!(outside_event(&body(json!({}))).unwrap().is_ok());
        assert!(outside_event(r#"{"source":"s","detail-type":"d","detail":{}}"#).is_none());
        assert!(outside_event("[\"detail-type\"]").is_none());
        let not_object = refused(&body(json!([1])));
        assert_eq!(not_object.code(), "malformed_message");
        assert!(
            not_object.to_string().contains("event `e-1`"),
            "{not_object}"
        );
        let mut wrong =
            json!({"version": 0, "id": "e", "source": "s", "detail-type": "d", "detail": {}});
        assert!(
            refused(&wrong.to_string())
                .to_string()
                .contains("`version` must be a string")
        );
        wrong["version"] = json!("0");
        wrong["id"] = json!("");
        assert_eq!(refused(&wrong.to_string()).code(), "malformed_message");
    }

    #[test]
    fn an_event_over_the_limit_is_too_large() {
        let big = body(json!({"blob": "x".repeat(MAX_BODY_BYTES)}));
        let refused = refused(&big);
        assert_eq!(refused.code(), "too_large");
        assert!(refused.to_string().contains("event `e-1`"), "{refused}");
    }

    #[test]
    fn no_binding_or_two_are_refused_and_an_unreadable_config_is_transient() {
        let event = outside_event(&body(json!({}))).unwrap().unwrap();
        let unbound = bind_event(&event, &Ok(Vec::new())).unwrap_err();
        assert_eq!(unbound.code(), "unbound_event");
        let machine = |t: &str| {
            let config = json!({
                "aggregateType": t, "version": 1, "initialState": "A", "states": ["A"],
                "transitions": [{"command": "C", "from": ["A"], "to": "A", "event": "E"}],
                "bindings": [{"source": "s", "detailType": "d", "command": "C",
                              "aggregateId": {"var": "detail.id"}}]
            });
            Arc::new(StateMachine::from_json(config.to_string().as_bytes()).unwrap())
        };
        let two = bind_event(&event, &Ok(vec![machine("a"), machine("b")])).unwrap_err();
        assert_eq!(two.code(), "ambiguous_binding");
        assert!(two.to_string().contains("a, b"), "{two}");
        let failed = bind_event(&event, &Ok(vec![machine("a")])).unwrap_err();
        assert_eq!(failed.code(), "binding_failed");
        let down = bind_event(&event, &Err(ConfigSourceError::unavailable("down"))).unwrap_err();
        assert_eq!(down.code(), "config_unavailable");

        // An id the envelope refuses (a `#`) is the binding's failure,
        // naming the binding and the field.
        let hashed = outside_event(&body(json!({"id": "a#b"}))).unwrap().unwrap();
        let err = bind_event(&hashed, &Ok(vec![machine("a")])).unwrap_err();
        assert_eq!(err.code(), "binding_failed");
        let reason = err.to_string();
        assert!(
            reason.contains("bindings[0]") && reason.contains("aggregateId"),
            "{reason}"
        );
        assert!(!reason.contains("a#b"), "{reason}");
        let ok = outside_event(&body(json!({"id": "x-1"}))).unwrap().unwrap();
        let command = bind_event(&ok, &Ok(vec![machine("a")])).unwrap();
        assert_eq!(command.command_id, "s/e-1");
        assert_eq!(command.key.to_string(), "a#x-1");
    }
}
