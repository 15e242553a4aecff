//! `cmdctl exec`: one command, built as a docs/reference.md §1 message body and run
//! through the handler as a one-message batch, then (on the embedded store)
//! its reactions ([`react`](super::react)).

use std::io::Write;

use anyhow::Context as _;
use handler_core::{AggregateKey, Batch, EventStore, InboundMessage};
use serde_json::json;

use crate::Exit;
use crate::cli::ExecArgs;
use crate::context::Context;
use crate::verbs::react;
use crate::{message, output};

/// Runs the command. Exits 0 when it applied (or had applied before), 1 when
/// it was rejected or failed, or when one of its reactions (or alarms) failed
/// transiently and is left for the next run.
pub(crate) fn run(ctx: &Context<'_>, exec: &ExecArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let global = ctx.global;
    let args = &exec.command;
    let message_id = message::fresh_id();
    let command_id = args
        .command_id
        .clone()
        .unwrap_or_else(|| message_id.clone());
    let message = InboundMessage::new(message_id, message::body(args, &command_id).to_string());
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);

    let clock = exec.clock.clock();
    let handler = ctx.handler(clock.clone())?;
    let report = ctx.block_on(handler.handle(Batch::standard(vec![message])));
    let outcome = report
        .outcomes
        .into_iter()
        .next()
        .context("the handler reported no outcome for the command")?;

    let applied = match &outcome.result {
        Ok(applied) => *applied,
        Err(_) => {
            if global.json {
                output::write_json(out, &json!({ "outcome": output::outcome_json(&outcome) }))?;
            }
            output::note(&output::outcome_text(&outcome.result));
            return Ok(Exit::Refused);
        }
    };
    let reactions = react::after_batch(ctx, &handler, &clock, &exec.after)?;
    // A reaction or alarm left for the next run (it failed transiently) is
    // work not done: exit 1, as `cmdctl run` does.
    let exit = if reactions.as_ref().is_none_or(react::Reactions::finished) {
        Exit::Ok
    } else {
        Exit::Refused
    };
    let head = ctx
        .block_on(handler.store().load(&key, &[]))
        .with_context(|| format!("cannot read the state of {key}"))?
        .head;

    if global.json {
        output::write_json(
            out,
            &json!({ "outcome": output::outcome_json(&outcome), "state": head,
                     "reactions": reactions }),
        )?;
        return Ok(exit);
    }
    let note = match applied.stale {
        Some(why) => format!(" (a fired alarm with no effect, {why}: nothing written)"),
        None if applied.duplicate => " (already applied: nothing written)".to_owned(),
        None => String::new(),
    };
    writeln!(
        out,
        "{} v{}: {key} {} (commandId {command_id}){note}",
        applied.outcome(),
        applied.version,
        args.command,
    )?;
    if let Some(head) = &head {
        writeln!(out, "{}", output::state_line(&key, head))?;
    }
    if let Some(reactions) = &reactions {
        reactions.write_text(out)?;
    }
    Ok(exit)
}
