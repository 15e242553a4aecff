//! `cmdctl replay TYPE ID`: the aggregate's state rebuilt from its events
//! (folded from the config's initial state, as the handler does), compared
//! with the stored head: state, version, data and the alarms set.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::{AggregateState, Alarm};
use handler_core::{AggregateKey, Event, EventStore};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::ReplayArgs;
use crate::context::Context;
use crate::output;
use crate::progress::Bar;

/// Events read per request.
const PAGE: usize = 1000;

/// One way the head and the events disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Difference {
    /// Events but no head, or a head but no events.
    Presence { head: bool, events: usize },
    /// Versions not 1, 2, 3 ...: the position's expected and found version.
    Gap { expected: u64, found: u64 },
    /// The state names differ.
    State { head: String, replayed: String },
    /// The versions differ.
    Version { head: u64, replayed: u64 },
    /// A data key differs: present in one only, or with other values.
    Data {
        key: String,
        head: Option<Value>,
        replayed: Option<Value>,
    },
    /// An alarm differs: set in one only, or set otherwise (due, version,
    /// command or payload).
    Alarm {
        name: String,
        head: Option<Alarm>,
        replayed: Option<Alarm>,
    },
}

/// Rebuilds and compares. Exits 0 when consistent, 1 when not (or when the
/// aggregate has no events and no head).
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ReplayArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);
    let Some(store) = ctx.existing_store()? else {
        output::note(&format!("no events for {key} in {}", ctx.store_spec()));
        return Ok(Exit::Refused);
    };
    let configs = ctx.config_source()?;
    let machine = ctx
        .block_on(configs.state_machine(&key.aggregate_type))
        .with_context(|| format!("cannot load the config of {}", key.aggregate_type))?;
    let head = ctx
        .block_on(store.load(&key, &[]))
        .with_context(|| format!("cannot read the head of {key}"))?
        .head;
    let bar = Bar::new(ctx, &format!("replaying {key}"));
    if let Some(head) = &head {
        bar.set_total(head.version);
    }
    let events = ctx
        .block_on(read_events(&store, &key, &bar))
        .with_context(|| format!("cannot read the events of {key}"))?;
    drop(bar);
    if events.is_empty() && head.is_none() {
        output::note(&format!("no events for {key} in {}", ctx.store_spec()));
        return Ok(Exit::Refused);
    }
    let replayed = fold(machine.initial_state(), &events);
    let differences = compare(head.as_ref(), &replayed, &events);

    let consistent = differences.is_empty();
    output::emit(
        ctx.global,
        out,
        &Replayed {
            key,
            events: events.len(),
            replayed,
            head,
            differences,
            show_values: args.show_values,
        },
    )?;
    Ok(if consistent { Exit::Ok } else { Exit::Refused })
}

/// The state rebuilt from the events, beside the stored head.
struct Replayed {
    key: AggregateKey,
    /// How many events were folded.
    events: usize,
    replayed: AggregateState,
    head: Option<AggregateState>,
    differences: Vec<Difference>,
    /// `--show-values`: the values themselves, not only where they differ.
    show_values: bool,
}

/// One object, its keys in alphabetical order.
impl Serialize for Replayed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let shown = |state: &AggregateState| {
            let mut doc = json!({ "state": state.state, "version": state.version });
            if self.show_values {
                doc["data"] = Value::Object(state.data.clone());
            }
            doc
        };
        let list: Vec<Value> = self
            .differences
            .iter()
            .map(|d| difference_json(d, self.show_values))
            .collect();
        json!({
            "aggregate": self.key.to_string(),
            "consistent": self.differences.is_empty(),
            "events": self.events,
            "replayed": shown(&self.replayed),
            "head": self.head.as_ref().map(shown),
            "differences": list,
        })
        .serialize(s)
    }
}

/// `order#o-1: consistent (...)`, or the line that it differs and one
/// indented line per difference.
impl fmt::Display for Replayed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        if self.differences.is_empty() {
            return writeln!(
                f,
                "{key}: consistent ({} events, {} v{})",
                self.events, self.replayed.state, self.replayed.version
            );
        }
        writeln!(
            f,
            "{key}: the stored head differs from its {} events",
            self.events
        )?;
        for d in &self.differences {
            writeln!(f, "  {}", difference_text(d, self.show_values))?;
        }
        Ok(())
    }
}

impl output::VerbReport for Replayed {}

async fn read_events(
    store: &impl EventStore,
    key: &AggregateKey,
    bar: &Bar,
) -> Result<Vec<Event>, handler_core::StoreError> {
    let mut events: Vec<Event> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e.version);
        let page = store.events(key, after, PAGE).await?;
        let done = page.len() < PAGE;
        bar.advance(page.len() as u64);
        events.extend(page);
        if done {
            return Ok(events);
        }
    }
}

/// Every event applied to `initial`, in order, as the handler applies them.
pub(crate) fn fold(initial: AggregateState, events: &[Event]) -> AggregateState {
    events.iter().fold(initial, |mut state, event| {
        event.apply_to(&mut state);
        state
    })
}

/// How the head and the events disagree; empty when they agree.
pub(crate) fn compare(
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

/// An alarm in a difference's text: what is not a payload value.
fn alarm_text(alarm: Option<&Alarm>) -> String {
    alarm.map_or_else(
        || "(not set)".to_owned(),
        |a| format!("v{} due {:.0} {}", a.version, a.due, a.command),
    )
}

fn difference_text(d: &Difference, show_values: bool) -> String {
    match d {
        Difference::Presence {
            head: false,
            events,
        } => {
            format!("no stored head, but {events} events")
        }
        Difference::Presence { head: true, .. } => "a stored head, but no events".to_owned(),
        Difference::Gap { expected, found } => {
            format!("versions are not gapless: expected v{expected}, found v{found}")
        }
        Difference::State { head, replayed } => {
            format!("state: head {head}, events give {replayed}")
        }
        Difference::Version { head, replayed } => {
            format!("version: head v{head}, events give v{replayed}")
        }
        Difference::Data {
            key,
            head,
            replayed,
        } => {
            let what = match (head, replayed) {
                (Some(_), None) => "only in the head",
                (None, Some(_)) => "missing from the head",
                _ => "differs",
            };
            if show_values {
                format!(
                    "data.{key}: {what} (head {}, events give {})",
                    value_text(head.as_ref()),
                    value_text(replayed.as_ref())
                )
            } else {
                format!("data.{key}: {what}")
            }
        }
        Difference::Alarm {
            name,
            head,
            replayed,
        } => alarm_difference_text(name, head.as_ref(), replayed.as_ref(), show_values),
    }
}

fn alarm_difference_text(
    name: &str,
    head: Option<&Alarm>,
    replayed: Option<&Alarm>,
    show_values: bool,
) -> String {
    let what = match (head, replayed) {
        (Some(_), None) => "only in the head",
        (None, Some(_)) => "missing from the head",
        _ => "differs",
    };
    let mut text = format!(
        "alarm {name}: {what} (head {}, events give {})",
        alarm_text(head),
        alarm_text(replayed)
    );
    if show_values
        && let (Some(h), Some(r)) = (head, replayed)
        && h.payload != r.payload
    {
        text.push_str(&format!(
            "; payload: head {}, events give {}",
            Value::Object(h.payload.clone()),
            Value::Object(r.payload.clone())
        ));
    }
    text
}

fn value_text(value: Option<&Value>) -> String {
    value.map_or_else(|| "(absent)".to_owned(), Value::to_string)
}

fn difference_json(d: &Difference, show_values: bool) -> Value {
    match d {
        Difference::Presence { head, events } => {
            json!({ "what": "presence", "head": head, "events": events })
        }
        Difference::Gap { expected, found } => {
            json!({ "what": "gap", "expected": expected, "found": found })
        }
        Difference::State { head, replayed } => {
            json!({ "what": "state", "head": head, "replayed": replayed })
        }
        Difference::Version { head, replayed } => {
            json!({ "what": "version", "head": head, "replayed": replayed })
        }
        Difference::Data {
            key,
            head,
            replayed,
        } => {
            let mut doc = json!({
                "what": "data",
                "key": key,
                "inHead": head.is_some(),
                "inReplay": replayed.is_some(),
            });
            if show_values {
                doc["head"] = json!(head);
                doc["replayed"] = json!(replayed);
            }
            doc
        }
        Difference::Alarm {
            name,
            head,
            replayed,
        } => {
            let summary = |a: &Option<Alarm>| {
                a.as_ref().map(|a| {
                    let mut doc = json!({
                        "version": a.version,
                        "due": format!("{:.0}", a.due),
                        "command": a.command,
                    });
                    if show_values {
                        doc["payload"] = Value::Object(a.payload.clone());
                    }
                    doc
                })
            };
            json!({
                "what": "alarm",
                "name": name,
                "inHead": head.is_some(),
                "inReplay": replayed.is_some(),
                "head": summary(head),
                "replayed": summary(replayed),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

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
        let text: Vec<String> = found.iter().map(|d| difference_text(d, false)).collect();
        assert_eq!(text[2], "data.extra: only in the head");
        assert_eq!(text[4], "data.quantity: differs", "no values by default");
        assert!(difference_text(&found[4], true).contains("head 9, events give 3"));
        assert!(difference_json(&found[4], false).get("head").is_none());
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
    fn alarms_that_differ_are_named_without_their_payload() {
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
        let text: Vec<String> = found.iter().map(|d| difference_text(d, false)).collect();
        assert_eq!(
            text[0],
            "alarm extra: only in the head (head v3 due 2025-01-03T00:00:00Z TimeOut, events \
             give (not set))"
        );
        assert!(
            text[1].starts_with("alarm gone: missing from the head"),
            "{}",
            text[1]
        );
        assert!(text[2].starts_with("alarm timeout: differs"), "{}", text[2]);
        assert!(
            text.iter()
                .all(|t| !t.contains("secret") && !t.contains("\"s\""))
        );
        let doc = difference_json(&found[2], false);
        assert_eq!(doc["what"], "alarm");
        assert_eq!(doc["head"]["due"], "2025-01-01T00:30:00Z");
        assert!(doc["head"].get("payload").is_none(), "no values by default");
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
