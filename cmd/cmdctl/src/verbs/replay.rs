//! `cmdctl replay TYPE ID`: the aggregate's state rebuilt from its events
//! and compared with the stored head ([`history::replay`]), rendered: one
//! line when consistent, else one line per [`Difference`].

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::AggregateKey;
use handler_core::state_machine::{AggregateState, Alarm};
use history::{Difference, Replay};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::ReplayArgs;
use crate::context::Context;
use crate::output;
use crate::progress::Bar;

/// Rebuilds and compares ([`history::replay`]). Exits 0 when consistent,
/// 1 when not (or when the aggregate has no events and no head).
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
    let bar = Bar::new(ctx, &format!("replaying {key}"));
    let mut shown = 0;
    let replay = ctx
        .block_on(history::replay(
            &store,
            &key,
            machine.initial_state(),
            |read, total| {
                if read == 0
                    && let Some(total) = total
                {
                    bar.set_total(total);
                }
                bar.advance(read - shown);
                shown = read;
            },
        ))
        .with_context(|| format!("cannot read the events of {key}"))?;
    drop(bar);
    if replay.is_empty() {
        output::note(&format!("no events for {key} in {}", ctx.store_spec()));
        return Ok(Exit::Refused);
    }
    let consistent = replay.is_consistent();
    output::emit(
        ctx.global,
        out,
        &Replayed {
            replay,
            show_values: args.show_values,
        },
    )?;
    Ok(if consistent { Exit::Ok } else { Exit::Refused })
}

/// The replay, rendered.
struct Replayed {
    replay: Replay,
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
            .replay
            .differences
            .iter()
            .map(|d| difference_json(d, self.show_values))
            .collect();
        json!({
            "aggregate": self.replay.key.to_string(),
            "consistent": self.replay.differences.is_empty(),
            "events": self.replay.events,
            "replayed": shown(&self.replay.replayed),
            "head": self.replay.head.as_ref().map(shown),
            "differences": list,
        })
        .serialize(s)
    }
}

/// `order#o-1: consistent (...)`, or the line that it differs and one
/// indented line per difference.
impl fmt::Display for Replayed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.replay.key;
        if self.replay.differences.is_empty() {
            return writeln!(
                f,
                "{key}: consistent ({} events, {} v{})",
                self.replay.events, self.replay.replayed.state, self.replay.replayed.version
            );
        }
        writeln!(
            f,
            "{key}: the stored head differs from its {} events",
            self.replay.events
        )?;
        for d in &self.replay.differences {
            writeln!(f, "  {}", difference_text(d, self.show_values))?;
        }
        Ok(())
    }
}

impl output::VerbReport for Replayed {}

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
    fn data_differences_name_the_key_and_no_values_by_default() {
        let extra = Difference::Data {
            key: "extra".into(),
            head: Some(json!(true)),
            replayed: None,
        };
        let quantity = Difference::Data {
            key: "quantity".into(),
            head: Some(json!(9)),
            replayed: Some(json!(3)),
        };
        assert_eq!(
            difference_text(&extra, false),
            "data.extra: only in the head"
        );
        assert_eq!(
            difference_text(&quantity, false),
            "data.quantity: differs",
            "no values by default"
        );
        assert!(difference_text(&quantity, true).contains("head 9, events give 3"));
        assert!(difference_json(&quantity, false).get("head").is_none());
    }

    #[test]
    fn alarms_that_differ_are_named_without_their_payload() {
        let found = [
            Difference::Alarm {
                name: "extra".into(),
                head: Some(alarm("extra", 3, "2025-01-03T00:00:00Z")),
                replayed: None,
            },
            Difference::Alarm {
                name: "gone".into(),
                head: None,
                replayed: Some(alarm("gone", 1, "2025-01-02T00:00:00Z")),
            },
            Difference::Alarm {
                name: "timeout".into(),
                head: Some(alarm("timeout", 2, "2025-01-01T00:30:00Z")),
                replayed: Some(alarm("timeout", 2, "2025-01-01T00:15:00Z")),
            },
        ];
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
}
