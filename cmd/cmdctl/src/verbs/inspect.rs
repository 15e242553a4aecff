//! `cmdctl state` and `cmdctl events`: what the store (SQLite or DynamoDB)
//! holds for one aggregate. Both only read: a missing store file is not
//! created.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, Event, EventStore, all_events};
use serde::Serialize;

use crate::Exit;
use crate::cli::AggregateArgs;
use crate::context::Context;
use crate::output;

/// Prints the aggregate's head: `{state, version, data}`.
pub(crate) fn state(
    ctx: &Context<'_>,
    args: &AggregateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);
    let Some(store) = ctx.existing_store()? else {
        return Ok(no_events(&key, ctx));
    };
    let head = ctx
        .block_on(store.load(&key, &[]))
        .with_context(|| format!("cannot read the state of {key}"))?
        .head;
    let Some(head) = head else {
        return Ok(no_events(&key, ctx));
    };
    output::emit(ctx.global, out, &State { key, head })?;
    Ok(Exit::Ok)
}

/// An aggregate's head; its JSON is the head's.
#[derive(Serialize)]
#[serde(transparent)]
struct State {
    #[serde(skip)]
    key: AggregateKey,
    head: AggregateState,
}

/// `order#o-1 -> Created (v1)`, then `data:` and the data, pretty.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", output::state_line(&self.key, &self.head))?;
        let data = serde_json::to_string_pretty(&self.head.data).map_err(|_| fmt::Error)?;
        writeln!(f, "data: {data}")
    }
}

impl output::VerbReport for State {}

/// Prints the aggregate's events, oldest first.
pub(crate) fn events(
    ctx: &Context<'_>,
    aggregate_type: &str,
    aggregate_id: &str,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(aggregate_type, aggregate_id);
    let Some(store) = ctx.existing_store()? else {
        return Ok(no_events(&key, ctx));
    };
    let events = ctx
        .block_on(all_events(&store, &key))
        .with_context(|| format!("cannot read the events of {key}"))?;
    if events.is_empty() {
        return Ok(no_events(&key, ctx));
    }
    output::emit(ctx.global, out, &Events(events))?;
    Ok(Exit::Ok)
}

/// An aggregate's events, oldest first; its JSON is the array of them.
#[derive(Serialize)]
#[serde(transparent)]
struct Events(Vec<Event>);

/// A table: version, eventType, state, commandId, recordedAt.
impl fmt::Display for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header = ["version", "eventType", "state", "commandId", "recordedAt"];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        rows.extend(self.0.iter().map(|e| {
            vec![
                e.version.to_string(),
                e.event_type.clone(),
                e.state.clone(),
                e.command_id.clone(),
                e.recorded_at.clone(),
            ]
        }));
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Events {}

/// Says so on stderr; exit 1.
pub(crate) fn no_events(key: &AggregateKey, ctx: &Context<'_>) -> Exit {
    output::note(&format!("no events for {key} in {}", ctx.store_spec()));
    Exit::Refused
}
