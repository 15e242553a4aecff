//! Reading the items back: the one parse of an event item's attributes,
//! shared by `store-dynamodb` (the SDK's items) and the stream processor
//! (a stream record's new image), so that the names and their meaning are
//! written once ([`attr`](crate::items::attr)).
//!
//! Whatever holds the item implements [`ItemAttributes`]: a string or a
//! number's text by attribute name.

use handler_core::state_machine::{AggregateState, AlarmChanges, Alarms};
use handler_core::{AggregateKey, Event, StoreError};
use serde_json::{Map, Value};

use crate::items::{attr, key_of_pk};

/// An item's attributes, as whatever holds them gives them.
pub trait ItemAttributes {
    /// The value of `name` when it is a string (`S`).
    fn string(&self, name: &str) -> Option<&str>;
    /// The text of `name` when it is a number (`N`).
    fn number(&self, name: &str) -> Option<&str>;
}

/// An attribute that is missing or not what the layout says. Its text names
/// the item's key and the attribute, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("item {pk}: attribute `{name}` is not {expected}")]
pub struct BadAttribute {
    /// The item's partition key (`?` when it has none).
    pub pk: String,
    /// The attribute.
    pub name: &'static str,
    /// What it should be.
    pub expected: &'static str,
}

impl From<BadAttribute> for StoreError {
    fn from(bad: BadAttribute) -> Self {
        StoreError::corrupt(bad.to_string()).with_source(bad)
    }
}

/// True when the item is an event by its key: a whole-number `sk` of at
/// least 1 (docs/reference.md §3: every other item has `sk` 0). Whether
/// its attributes are sound is [`event`]'s question.
pub fn is_event(item: &impl ItemAttributes) -> bool {
    item.number(attr::SK)
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|version| version >= 1)
}

/// The aggregate an event item belongs to, from its `pk`.
pub fn aggregate_key(item: &impl ItemAttributes) -> Result<AggregateKey, BadAttribute> {
    string(item, attr::PK)
        .ok()
        .and_then(key_of_pk)
        .ok_or_else(|| bad(item, attr::PK, "an aggregate key `{type}#{id}`"))
}

/// The event an event item holds.
pub fn event(item: &impl ItemAttributes) -> Result<Event, BadAttribute> {
    Ok(Event {
        version: number(item, attr::SK)?,
        event_type: string(item, attr::EVENT_TYPE)?.to_owned(),
        state: string(item, attr::STATE)?.to_owned(),
        payload: json(item, attr::PAYLOAD)?,
        command_id: string(item, attr::COMMAND_ID)?.to_owned(),
        metadata: json(item, attr::METADATA)?,
        recorded_at: string(item, attr::RECORDED_AT)?.to_owned(),
        config_version: number(item, attr::CONFIG_VERSION)?,
        alarms: optional_json::<AlarmChanges>(item, attr::ALARMS, "the alarms an event changed")?,
    })
}

/// The aggregate's data after an event item's event.
pub fn data(item: &impl ItemAttributes) -> Result<Map<String, Value>, BadAttribute> {
    json(item, attr::DATA)
}

/// The aggregate's state after an event item's event: the head, when it is
/// the newest (only the last item of an append holds the alarms, so on an
/// older item they read as none).
pub fn head(item: &impl ItemAttributes) -> Result<AggregateState, BadAttribute> {
    Ok(AggregateState {
        state: string(item, attr::STATE)?.to_owned(),
        version: number(item, attr::SK)?,
        data: data(item)?,
        alarms: optional_json::<Alarms>(item, attr::ALARM_STATE, "the alarms set, by name")?
            .unwrap_or_default(),
    })
}

/// An optional attribute holding JSON text of a `T`: `None` when absent.
fn optional_json<T: serde::de::DeserializeOwned>(
    item: &impl ItemAttributes,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<T>, BadAttribute> {
    if item.string(name).is_none() && item.number(name).is_none() {
        return Ok(None);
    }
    serde_json::from_str(string(item, name)?)
        .map(Some)
        .map_err(|_| bad(item, name, expected))
}

/// A string attribute.
pub fn string<'a>(
    item: &'a impl ItemAttributes,
    name: &'static str,
) -> Result<&'a str, BadAttribute> {
    item.string(name).ok_or_else(|| bad(item, name, "a string"))
}

/// A whole-number attribute.
pub fn number(item: &impl ItemAttributes, name: &'static str) -> Result<u64, BadAttribute> {
    item.number(name)
        .ok_or_else(|| bad(item, name, "a number"))?
        .parse()
        .map_err(|_| bad(item, name, "a whole number"))
}

/// A JSON-object attribute (held as JSON text).
pub fn json(
    item: &impl ItemAttributes,
    name: &'static str,
) -> Result<Map<String, Value>, BadAttribute> {
    serde_json::from_str(string(item, name)?).map_err(|_| bad(item, name, "a JSON object"))
}

/// The error for attribute `name` of `item`.
pub fn bad(item: &impl ItemAttributes, name: &'static str, expected: &'static str) -> BadAttribute {
    BadAttribute {
        pk: item.string(attr::PK).unwrap_or("?").to_owned(),
        name,
        expected,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use handler_core::CommandRecord;
    use serde_json::json;

    use super::*;
    use crate::items::{AttrValue, event_item};

    struct Plain(HashMap<&'static str, AttrValue<'static>>);

    impl ItemAttributes for Plain {
        fn string(&self, name: &str) -> Option<&str> {
            match self.0.get(name)? {
                AttrValue::S(s) => Some(s),
                AttrValue::N(_) => None,
            }
        }
        fn number(&self, _name: &str) -> Option<&str> {
            None
        }
    }

    #[test]
    fn what_is_written_reads_back_and_a_broken_attribute_is_named() {
        let key = AggregateKey::new("order", "o-1");
        let event = Event {
            alarms: None,
            version: 3,
            event_type: "OrderCreated".into(),
            state: "Created".into(),
            payload: json!({"n": 1}).as_object().cloned().unwrap(),
            command_id: "c-1".into(),
            metadata: Map::new(),
            recorded_at: "2026-01-01T00:00:00Z".into(),
            config_version: 2,
        };
        let record = CommandRecord {
            command_id: "c-1".into(),
            key: key.clone(),
            fingerprint: "f".into(),
            version: 3,
        };
        let data = json!({"n": 1}).as_object().cloned().unwrap();
        // Numbers as text, as every holder of items gives them.
        struct Texts(Vec<(&'static str, String, bool)>);
        impl ItemAttributes for Texts {
            fn string(&self, name: &str) -> Option<&str> {
                let (_, v, _) = self.0.iter().find(|(n, _, s)| *n == name && *s)?;
                Some(v)
            }
            fn number(&self, name: &str) -> Option<&str> {
                let (_, v, _) = self.0.iter().find(|(n, _, s)| *n == name && !*s)?;
                Some(v)
            }
        }
        let texts = |item: Vec<(&'static str, AttrValue<'_>)>| {
            Texts(
                item.into_iter()
                    .map(|(n, v)| match v {
                        AttrValue::S(s) => (n, s.into_owned(), true),
                        AttrValue::N(x) => (n, x.to_string(), false),
                    })
                    .collect(),
            )
        };
        let item = texts(event_item(&key, &event, &record, &data));
        assert!(is_event(&item));
        assert_eq!(super::event(&item).unwrap(), event);
        assert_eq!(aggregate_key(&item).unwrap(), key);
        assert_eq!(head(&item).unwrap().data, data);

        let mut broken = item;
        broken.0.retain(|(n, _, _)| *n != attr::PAYLOAD);
        broken.0.push((attr::PAYLOAD, "[1]".into(), true));
        let err = super::event(&broken).unwrap_err();
        assert_eq!(
            err.to_string(),
            "item order#o-1: attribute `payload` is not a JSON object"
        );
        let plain = Plain(HashMap::from([(
            attr::PK,
            AttrValue::S("#failure#m".into()),
        )]));
        assert!(!is_event(&plain));
        assert!(aggregate_key(&plain).is_err());
    }
}
