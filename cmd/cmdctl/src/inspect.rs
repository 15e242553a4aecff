//! `cmdctl state` and `cmdctl events`: what the store holds for one
//! aggregate. Both only read: a missing store file is not created.

use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateKey, EventStore, all_events};

use crate::Exit;
use crate::cli::{AggregateArgs, GlobalArgs};
use crate::{context, output};

/// Prints the aggregate's head: `{state, version, data}`.
pub(crate) fn state(
    global: &GlobalArgs,
    args: &AggregateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);
    let Some(store) = context::existing_store(&global.store)? else {
        return Ok(no_events(&key, global));
    };
    let head = context::runtime()?
        .block_on(store.load(&key, &[]))
        .with_context(|| format!("cannot read the state of {key}"))?
        .head;
    let Some(head) = head else {
        return Ok(no_events(&key, global));
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
    global: &GlobalArgs,
    args: &AggregateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);
    let Some(store) = context::existing_store(&global.store)? else {
        return Ok(no_events(&key, global));
    };
    let events = context::runtime()?
        .block_on(all_events(&store, &key))
        .with_context(|| format!("cannot read the events of {key}"))?;
    if events.is_empty() {
        return Ok(no_events(&key, global));
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
fn no_events(key: &AggregateKey, global: &GlobalArgs) -> Exit {
    output::note(&format!(
        "no events for {key} in {}",
        global.store.display()
    ));
    Exit::Refused
}
