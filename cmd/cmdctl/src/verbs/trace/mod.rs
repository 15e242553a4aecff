//! `cmdctl trace CORRELATION_ID`: the events of one correlation across
//! aggregates, in order, from the store's `Correlations` look-up (a scan),
//! or with `--root TYPE ID` by `walk_correlation` through the reactions;
//! printed in causal order ([`causal`]).

mod causal;

use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateKey, walk_correlation};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::TraceArgs;
use crate::context::Context;
use crate::output;

/// Lists the correlation's events; exit 1 when there are none.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &TraceArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let id = &args.correlation_id;
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let events = match (ctx.existing_store()?, args.root.as_deref()) {
        (None, _) => Vec::new(),
        (Some(store), Some([aggregate_type, aggregate_id])) => {
            let root = AggregateKey::new(aggregate_type, aggregate_id);
            let configs = ctx.config_source()?;
            ctx.block_on(walk_correlation(&store, &configs, &root, id, limit))
                .with_context(|| format!("cannot follow correlation {id} from {root}"))?
        }
        (Some(store), _) => ctx
            .block_on(store.correlated(id, limit))
            .with_context(|| format!("cannot read the events of correlation {id}"))?,
    };
    let events = causal::causal_order(events);
    if events.is_empty() {
        output::note(&format!(
            "no events of correlation {id} in {}",
            ctx.store_spec()
        ));
        return Ok(Exit::Refused);
    }
    let causation = |metadata: &serde_json::Map<String, Value>| {
        metadata
            .get("causationId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if ctx.global.json {
        let rows: Vec<Value> = events
            .iter()
            .map(|e| {
                json!({
                    "eventId": e.event_id(),
                    "aggregateType": e.key.aggregate_type,
                    "aggregateId": e.key.aggregate_id,
                    "version": e.event.version,
                    "eventType": e.event.event_type,
                    "state": e.event.state,
                    "commandId": e.event.command_id,
                    "causationId": e.event.metadata.get("causationId"),
                    "recordedAt": e.event.recorded_at,
                })
            })
            .collect();
        output::write_json(out, &json!({ "correlationId": id, "events": rows }))?;
        return Ok(Exit::Ok);
    }
    let header = [
        "recordedAt",
        "aggregate",
        "version",
        "eventType",
        "state",
        "commandId",
        "causedBy",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    rows.extend(events.iter().map(|e| {
        vec![
            e.event.recorded_at.clone(),
            e.key.to_string(),
            e.event.version.to_string(),
            e.event.event_type.clone(),
            e.event.state.clone(),
            e.event.command_id.clone(),
            causation(&e.event.metadata),
        ]
    }));
    output::write_table(out, &rows)?;
    Ok(Exit::Ok)
}
