//! `cmdctl alarms TYPE ID`: the alarms an aggregate has set, from its state
//! (either store): name, due time (overdue when it is past the clock's
//! now), command, the version that set it.

use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::{Alarm, Timestamp};
use handler_core::{AggregateKey, EventStore};
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
    let now = args.clock.now();
    let mut alarms: Vec<&Alarm> = head.alarms.values().collect();
    alarms.sort_by(|a, b| (a.due, &a.name).cmp(&(b.due, &b.name)));

    if ctx.global.json {
        let list: Vec<Value> = alarms.iter().map(|a| alarm_json(a, now)).collect();
        output::write_json(
            out,
            &json!({ "aggregate": key.to_string(), "version": head.version,
                     "now": format!("{now:.0}"), "alarms": list }),
        )?;
        return Ok(Exit::Ok);
    }
    if alarms.is_empty() {
        output::note(&format!("{key} has no alarm set (v{})", head.version));
        return Ok(Exit::Ok);
    }
    let header = ["name", "due", "command", "set by"];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    rows.extend(alarms.iter().map(|a| {
        vec![
            a.name.clone(),
            due_text(a, now),
            a.command.clone(),
            format!("v{}", a.version),
        ]
    }));
    output::write_table(out, &rows)?;
    Ok(Exit::Ok)
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
