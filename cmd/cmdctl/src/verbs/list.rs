//! `cmdctl list TYPE`: the aggregates of a type, page by page, from
//! `EventStore::list_aggregates`.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateIndex, AggregateSummary};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::ListArgs;
use crate::context::Context;
use crate::output;
use crate::progress::Bar;

/// Aggregates asked for per request.
const PAGE: usize = 100;

/// Lists the aggregates (all, or up to `--limit`). Exits 0, also when
/// there are none.
pub(crate) fn run(ctx: &Context<'_>, args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let limit = args
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    let (found, next) = match ctx.existing_store()? {
        Some(store) => {
            let bar = Bar::new(ctx, &format!("listing {}", args.aggregate_type));
            if limit != usize::MAX {
                bar.set_total(limit as u64);
            }
            let listed = ctx.block_on(list(
                &store,
                &args.aggregate_type,
                args.after.as_deref(),
                limit,
                &bar,
            ));
            listed.with_context(|| {
                format!(
                    "cannot list the {} aggregates in {}",
                    args.aggregate_type,
                    ctx.store_spec()
                )
            })?
        }
        None => (Vec::new(), None),
    };
    output::emit(
        ctx.global,
        out,
        &Listed {
            aggregate_type: args.aggregate_type.clone(),
            store: ctx.store_spec().to_string(),
            found,
            next,
        },
    )?;
    Ok(Exit::Ok)
}

/// A page of a type's aggregates, and where the listing goes on.
struct Listed {
    aggregate_type: String,
    /// The store, for the note that there are none.
    store: String,
    found: Vec<AggregateSummary>,
    next: Option<String>,
}

impl Serialize for Listed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let items: Vec<Value> = self
            .found
            .iter()
            .map(|a| json!({ "aggregateId": a.aggregate_id, "state": a.state, "version": a.version }))
            .collect();
        json!({ "aggregateType": self.aggregate_type, "aggregates": items, "next": self.next })
            .serialize(s)
    }
}

/// A table (aggregateId, state, version); nothing when there are none.
impl fmt::Display for Listed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.found.is_empty() {
            return Ok(());
        }
        let mut rows = vec![vec![
            "aggregateId".to_owned(),
            "state".to_owned(),
            "version".to_owned(),
        ]];
        rows.extend(self.found.iter().map(|a| {
            vec![
                a.aggregate_id.clone(),
                a.state.clone(),
                a.version.to_string(),
            ]
        }));
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Listed {
    fn notes(&self) -> Vec<String> {
        if self.found.is_empty() {
            return vec![format!(
                "no {} aggregates in {}",
                self.aggregate_type, self.store
            )];
        }
        self.next
            .iter()
            .map(|next| format!("more: --after {next}"))
            .collect()
    }
}

/// Up to `limit` aggregates after `after`, and the id to continue after
/// when more remain.
async fn list(
    store: &impl AggregateIndex,
    aggregate_type: &str,
    after: Option<&str>,
    limit: usize,
    bar: &Bar,
) -> Result<(Vec<AggregateSummary>, Option<String>), handler_core::StoreError> {
    let mut found: Vec<AggregateSummary> = Vec::new();
    let mut cursor = after.map(str::to_owned);
    loop {
        let want = PAGE.min(limit - found.len());
        // One more than wanted tells whether the listing goes on.
        let mut page = store
            .list_aggregates(aggregate_type, cursor.as_deref(), want + 1)
            .await?;
        let more = page.len() > want;
        page.truncate(want);
        bar.advance(page.len() as u64);
        cursor = page.last().map(|a| a.aggregate_id.clone());
        found.extend(page);
        if !more {
            return Ok((found, None));
        }
        if found.len() >= limit {
            return Ok((found, cursor));
        }
    }
}
