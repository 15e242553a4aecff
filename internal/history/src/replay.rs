//! An aggregate's state rebuilt from its events (folded from the config's
//! initial state, as the handler applies them), compared with the stored
//! head: gaps in the versions, state, version, data keys and the alarms set.
//!
//! Cost: one `load` of the head, then one `events` read per [`PAGE`] events.

use handler_core::state_machine::{AggregateState, Alarm};
use handler_core::{AggregateKey, Event, EventStore, StoreError};
use serde_json::Value;

/// Events read per request.
pub const PAGE: usize = 1000;

/// One way the head and the events disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// Events but no head, or a head but no events.
    Presence {
        /// Whether there is a stored head.
        head: bool,
        /// How many events there are.
        events: usize,
    },
    /// Versions not 1, 2, 3 ...: the position's expected and found version.
    Gap {
        /// The version expected at that position.
        expected: u64,
        /// The version stored there.
        found: u64,
    },
    /// The state names differ.
    State {
        /// The head's state.
        head: String,
        /// The state the events give.
        replayed: String,
    },
    /// The versions differ.
    Version {
        /// The head's version.
        head: u64,
        /// The version the events give.
        replayed: u64,
    },
    /// A data key differs: present in one only, or with other values.
    Data {
        /// The key.
        key: String,
        /// Its value in the head.
        head: Option<Value>,
        /// Its value from the events.
        replayed: Option<Value>,
    },
    /// An alarm differs: set in one only, or set otherwise (due, version,
    /// command or payload).
    Alarm {
        /// The alarm's name.
        name: String,
        /// As the head has it.
        head: Option<Alarm>,
        /// As the events set it.
        replayed: Option<Alarm>,
    },
}

/// The state rebuilt from an aggregate's events, beside the stored head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The aggregate.
    pub key: AggregateKey,
    /// How many events were folded.
    pub events: usize,
    /// The state the events give.
    pub replayed: AggregateState,
    /// The stored head, `None` when there is none.
    pub head: Option<AggregateState>,
    /// How they disagree; empty when consistent.
    pub differences: Vec<Difference>,
}

impl Replay {
    /// Whether the head and the events agree.
    pub fn is_consistent(&self) -> bool {
        self.differences.is_empty()
    }

    /// Whether the store holds nothing of the aggregate: no events, no head.
    pub fn is_empty(&self) -> bool {
        self.events == 0 && self.head.is_none()
    }
}

/// Reads `key`'s head and all its events from `store`, folds the events from
/// `initial` and compares. `progress(read, total)` is called once the head
/// is read (`total` is its version) and after each page of events.
///
/// # Errors
/// The store could not be read.
pub async fn replay(
    store: &impl EventStore,
    key: &AggregateKey,
    initial: AggregateState,
    mut progress: impl FnMut(u64, Option<u64>),
) -> Result<Replay, StoreError> {
    let head = store.load(key, &[]).await?.head;
    let total = head.as_ref().map(|h| h.version);
    progress(0, total);
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.version);
        let page = store.events(key, after, PAGE).await?;
        let done = page.len() < PAGE;
        events.extend(page);
        progress(events.len() as u64, total);
        if done {
            break;
        }
    }
    let replayed = fold(initial, &events);
    let differences = compare(head.as_ref(), &replayed, &events);
    Ok(Replay {
        key: key.clone(),
        events: events.len(),
        replayed,
        head,
        differences,
    })
}

/// Every event applied to `initial`, in order, as the handler applies them.
pub fn fold(initial: AggregateState, events: &[Event]) -> AggregateState {
    events.iter().fold(initial, |mut state, event| {
        event.apply_to(&mut state);
        state
    })
}

/// How the head and the events disagree; empty when they agree.
pub fn compare(
    head: Option<&AggregateState>,
    replayed: &AggregateState,
    events: &[Event],
) -> Vec<Difference> {
    let mut out: Vec<Difference> = events
        .iter()
        .zip(1..)
        .filter(|(e, expected)| e.version != *expected)
        .map(|(e, expected)| Difference::Gap {
            expected,
            found: e.version,
        })
        .take(1)
        .collect();
    let Some(head) = head else {
        out.push(Difference::Presence {
            head: false,
            events: events.len(),
        });
        return out;
    };
    if events.is_empty() {
        out.push(Difference::Presence {
            head: true,
            events: 0,
        });
    }
    if head.state != replayed.state {
        out.push(Difference::State {
            head: head.state.clone(),
            replayed: replayed.state.clone(),
        });
    }
    if head.version != replayed.version {
        out.push(Difference::Version {
            head: head.version,
            replayed: replayed.version,
        });
    }
    let mut keys: Vec<&String> = head.data.keys().chain(replayed.data.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let (h, r) = (head.data.get(key), replayed.data.get(key));
        if h != r {
            out.push(Difference::Data {
                key: key.clone(),
                head: h.cloned(),
                replayed: r.cloned(),
            });
        }
    }
    let mut names: Vec<&String> = head.alarms.keys().chain(replayed.alarms.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (h, r) = (head.alarms.get(name), replayed.alarms.get(name));
        if h != r {
            out.push(Difference::Alarm {
                name: name.clone(),
                head: h.cloned(),
                replayed: r.cloned(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn event(version: u64, state: &str, payload: Value) -> Event {
        let Value::Object(payload) = payload else {
            panic!("an object")
        };
        Event {
            alarms: None,
            version,
            event_type: format!("E{version}"),
            state: state.to_owned(),
            payload,
            command_id: format!("c-{version}"),
            metadata: Map::new(),
            recorded_at: "2025-01-01T00:00:00.000Z".to_owned(),
            config_version: 1,
        }
    }

    fn initial() -> AggregateState {
        AggregateState {
            alarms: Default::default(),
            state: "New".to_owned(),
            version: 0,
            data: Map::new(),
        }
    }

    fn history() -> Vec<Event> {
        vec![
            event(1, "Created", json!({ "itemId": "tea", "quantity": 2 })),
            event(2, "Reserved", json!({ "quantity": 3, "note": "x" })),
            event(3, "Paid", json!({ "note": null })),
        ]
    }

    #[test]
    fn the_fold_merges_payloads_as_the_handler_does() {
        let state = fold(initial(), &history());
        assert_eq!(state.state, "Paid");
        assert_eq!(state.version, 3);
        assert_eq!(
            Value::Object(state.data),
            json!({ "itemId": "tea", "quantity": 3 })
        );
    }

    #[test]
    fn a_matching_head_is_consistent() {
        let events = history();
        let replayed = fold(initial(), &events);
        assert!(compare(Some(&replayed.clone()), &replayed, &events).is_empty());
    }

    #[test]
    fn every_difference_is_named() {
        let events = history();
        let replayed = fold(initial(), &events);
        let mut head = replayed.clone();
        head.state = "Confirmed".into();
        head.version = 4;
        head.data.insert("quantity".into(), json!(9));
        head.data.insert("extra".into(), json!(true));
        head.data.remove("itemId");
        let found = compare(Some(&head), &replayed, &events);
        assert_eq!(
            found,
            vec![
                Difference::State {
                    head: "Confirmed".into(),
                    replayed: "Paid".into()
                },
                Difference::Version {
                    head: 4,
                    replayed: 3
                },
                Difference::Data {
                    key: "extra".into(),
                    head: Some(json!(true)),
                    replayed: None
                },
                Difference::Data {
                    key: "itemId".into(),
                    head: None,
                    replayed: Some(json!("tea"))
                },
                Difference::Data {
                    key: "quantity".into(),
                    head: Some(json!(9)),
                    replayed: Some(json!(3))
                },
            ]
        );
    }

    fn alarm(name: &str, version: u64, due: &str) -> Alarm {
        serde_json::from_value(json!({
            "name": name,
            "due": due,
            "version": version,
            "command": "TimeOut",
            "payload": { "secret": "s" },
        }))
        .expect("an alarm")
    }

    #[test]
    fn alarms_that_differ_are_named() {
        let events = history();
        let mut replayed = fold(initial(), &events);
        replayed.alarms.insert(
            "timeout".into(),
            alarm("timeout", 2, "2025-01-01T00:15:00Z"),
        );
        replayed
            .alarms
            .insert("gone".into(), alarm("gone", 1, "2025-01-02T00:00:00Z"));
        let mut head = replayed.clone();
        assert!(compare(Some(&head), &replayed, &events).is_empty());
        // The head's alarm is due at another time, one is missing, one is extra.
        head.alarms.insert(
            "timeout".into(),
            alarm("timeout", 2, "2025-01-01T00:30:00Z"),
        );
        head.alarms.remove("gone");
        head.alarms
            .insert("extra".into(), alarm("extra", 3, "2025-01-03T00:00:00Z"));
        let found = compare(Some(&head), &replayed, &events);
        let names: Vec<&str> = found
            .iter()
            .map(|d| match d {
                Difference::Alarm { name, .. } => name.as_str(),
                other => panic!("only alarms differ: {other:?}"),
            })
            .collect();
        assert_eq!(names, ["extra", "gone", "timeout"]);
        assert_eq!(
            found[2],
            Difference::Alarm {
                name: "timeout".into(),
                head: Some(alarm("timeout", 2, "2025-01-01T00:30:00Z")),
                replayed: Some(alarm("timeout", 2, "2025-01-01T00:15:00Z")),
            }
        );
    }

    #[test]
    fn gaps_and_missing_heads_are_differences() {
        let mut events = history();
        events.remove(1);
        let replayed = fold(initial(), &events);
        let found = compare(Some(&replayed), &replayed, &events);
        assert_eq!(
            found,
            vec![Difference::Gap {
                expected: 2,
                found: 3
            }]
        );
        assert_eq!(
            compare(None, &replayed, &events).last(),
            Some(&Difference::Presence {
                head: false,
                events: 2
            })
        );
    }
}
