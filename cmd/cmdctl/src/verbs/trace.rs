//! `cmdctl trace CORRELATION_ID`: the events of one correlation across
//! aggregates, in order, from the store's `Correlations` look-up (a scan),
//! or with `--root TYPE ID` by `walk_correlation` through the reactions;
//! printed in causal order ([`history::causal_order`]).

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateKey, StoredEvent, walk_correlation};
use serde::{Serialize, Serializer};
use serde_json::Value;

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
    let events = history::causal_order(events);
    if events.is_empty() {
        output::note(&format!(
            "no events of correlation {id} in {}",
            ctx.store_spec()
        ));
        return Ok(Exit::Refused);
    }
    output::emit(
        ctx.global,
        out,
        &Traced {
            correlation_id: id.clone(),
            events,
        },
    )?;
    Ok(Exit::Ok)
}

/// A correlation's events, in causal order.
struct Traced {
    correlation_id: String,
    events: Vec<StoredEvent>,
}

/// `{correlationId, events: [...]}` ([`history::trace_json`]).
impl Serialize for Traced {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        history::trace_json(&self.correlation_id, &self.events).serialize(s)
    }
}

/// A table: recordedAt, aggregate, version, eventType, state, commandId,
/// causedBy.
impl fmt::Display for Traced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let causation = |metadata: &serde_json::Map<String, Value>| {
            metadata
                .get("causationId")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
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
        rows.extend(self.events.iter().map(|e| {
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
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Traced {}
