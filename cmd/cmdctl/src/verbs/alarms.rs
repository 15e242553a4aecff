//! `cmdctl alarms TYPE ID`: the alarms an aggregate has set, from its state
//! (either store): name, due time (overdue when it is past the clock's
//! now), command, the version that set it.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::{Alarm, Timestamp};
use handler_core::{AggregateKey, EventStore};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::AlarmsArgs;
use crate::context::Context;
use crate::output;
use crate::verbs::inspect::no_events;

/// Prints the alarms, earliest first; a note when none is set (exit 0),
/// exit 1 when the aggregate has no events.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &AlarmsArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);
    let Some(store) = ctx.existing_store()? else {
        return Ok(no_events(&key, ctx));
    };
    let Some(head) = ctx
        .block_on(store.load(&key, &[]))
        .with_context(|| format!("cannot read the state of {key}"))?
        .head
    else {
        return Ok(no_events(&key, ctx));
    };
    let now = crate::clock::shared(args.now.as_ref()).now();
    let mut alarms: Vec<Alarm> = head.alarms.values().cloned().collect();
    alarms.sort_by(|a, b| (a.due, &a.name).cmp(&(b.due, &b.name)));
    output::emit(
        ctx.global,
        out,
        &Alarms {
            key,
            version: head.version,
            now,
            alarms,
        },
    )?;
    Ok(Exit::Ok)
}

/// An aggregate's alarms, earliest first, as of `now`.
struct Alarms {
    key: AggregateKey,
    version: u64,
    now: Timestamp,
    alarms: Vec<Alarm>,
}

impl Serialize for Alarms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Value> = self
            .alarms
            .iter()
            .map(|a| alarm_json(a, self.now))
            .collect();
        json!({ "aggregate": self.key.to_string(), "version": self.version,
                "now": format!("{:.0}", self.now), "alarms": list })
        .serialize(s)
    }
}

/// A table (name, due, command, set by); nothing when none is set.
impl fmt::Display for Alarms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.alarms.is_empty() {
            return Ok(());
        }
        let header = ["name", "due", "command", "set by"];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        rows.extend(self.alarms.iter().map(|a| {
            vec![
                a.name.clone(),
                due_text(a, self.now),
                a.command.clone(),
                format!("v{}", a.version),
            ]
        }));
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Alarms {
    fn notes(&self) -> Vec<String> {
        if self.alarms.is_empty() {
            vec![format!("{} has no alarm set (v{})", self.key, self.version)]
        } else {
            Vec::new()
        }
    }
}

/// `2026-11-30T16:30:00Z`, with ` overdue` when it is due by `now`.
fn due_text(alarm: &Alarm, now: Timestamp) -> String {
    if alarm.due <= now {
        format!("{} overdue", alarm.due)
    } else {
        alarm.due.to_string()
    }
}

/// The alarm as stored, with `overdue`.
fn alarm_json(alarm: &Alarm, now: Timestamp) -> Value {
    let mut value = serde_json::to_value(alarm).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("overdue".to_owned(), Value::Bool(alarm.due <= now));
    }
    value
}
