//! `cmdctl ingest`: outside events (EventBridge events, as a rule delivers
//! them to the command queue) run through the handler as one batch, each
//! becoming the command of its binding (docs/reference.md §2, `bindings`),
//! then (on the embedded store) the reactions ([`react`](super::react));
//! printed as one row per event and what the reactions did.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use command_messages::event_lines;
use handler_core::{Batch, InboundMessage, MessageOutcome};
use local_runtime::Report;
use serde::{Serialize, Serializer};

use crate::Exit;
use crate::cli::IngestArgs;
use crate::context::Context;
use crate::verbs::process::read_input;
use crate::verbs::react::Runner;
use crate::{message, output};

/// What `ingest` prints: every outcome, and what the reactions did (`null`
/// when they did not run).
#[derive(Serialize)]
struct Ingested {
    #[serde(serialize_with = "outcomes_json")]
    outcomes: Vec<MessageOutcome>,
    reactions: Option<Report>,
}

fn outcomes_json<S: Serializer>(outcomes: &[MessageOutcome], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(outcomes.iter().map(output::outcome_json))
}

/// One row per event (its command id, `{source}/{id}`, in place of the
/// message id, which is made up here), then the reactions.
impl fmt::Display for Ingested {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .outcomes
            .iter()
            .map(|o| {
                let mut row = output::outcome_row(o);
                if let Some(id) = &o.command_id {
                    row[0].clone_from(id);
                }
                row
            })
            .collect();
        f.write_str(&output::table(&rows))?;
        if let Some(reactions) = &self.reactions {
            write!(f, "{reactions}")?;
        }
        Ok(())
    }
}

impl output::VerbReport for Ingested {}

/// Runs the events in `args.file`. Exits 0 when every event applied (or
/// had before), 1 when one was refused or failed (its reason is in its
/// row), or when a reaction (or alarm) failed transiently and is left for
/// the next run.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &IngestArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let (name, text) = read_input(&args.file)?;
    let bodies = event_lines::bodies(&text).with_context(|| format!("cannot use {name}"))?;
    let batch_id = message::fresh_id();
    let messages = bodies
        .into_iter()
        .enumerate()
        .map(|(n, body)| InboundMessage::new(format!("{batch_id}-{}", n + 1), body))
        .collect();
    let runner = Runner::new(ctx, args.clock.clock(), &args.after)?;
    let report = ctx.block_on(runner.handle(Batch::standard(messages)));
    let reactions = runner.after_batch(ctx, &args.after)?;
    let all_applied = report.outcomes.iter().all(|o| o.result.is_ok());
    let exit = if all_applied && reactions.as_ref().is_none_or(Report::finished) {
        Exit::Ok
    } else {
        Exit::Refused
    };
    output::emit(
        ctx.global,
        out,
        &Ingested {
            outcomes: report.outcomes,
            reactions,
        },
    )?;
    Ok(exit)
}
