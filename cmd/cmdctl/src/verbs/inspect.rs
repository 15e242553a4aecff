//! `cmdctl state` and `cmdctl events`: what the store (SQLite or DynamoDB)
//! holds for one aggregate. Both only read: a missing store file is not
//! created.

use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateKey, EventStore, all_events};

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
    let global = ctx.global;
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
    if global.json {
        output::write_json(out, &head)?;
    } else {
        writeln!(out, "{}", output::state_line(&key, &head))?;
        writeln!(out, "data: {}", serde_json::to_string_pretty(&head.data)?)?;
    }
    Ok(Exit::Ok)
}

/// Prints the aggregate's events, oldest first.
pub(crate) fn events(
    ctx: &Context<'_>,
    aggregate_type: &str,
    aggregate_id: &str,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let global = ctx.global;
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
    if global.json {
        output::write_json(out, &events)?;
        return Ok(Exit::Ok);
    }
    let header = ["version", "eventType", "state", "commandId", "recordedAt"];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    rows.extend(events.iter().map(|e| {
        vec![
            e.version.to_string(),
            e.event_type.clone(),
            e.state.clone(),
            e.command_id.clone(),
            e.recorded_at.clone(),
        ]
    }));
    output::write_table(out, &rows)?;
    Ok(Exit::Ok)
}

/// Says so on stderr; exit 1.
pub(crate) fn no_events(key: &AggregateKey, ctx: &Context<'_>) -> Exit {
    output::note(&format!("no events for {key} in {}", ctx.store_spec()));
    Exit::Refused
}
