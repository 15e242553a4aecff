//! `cmdctl exec`: one command, built as a docs/reference.md §1 message body and run
//! through the handler as a one-message batch, then (on the embedded store)
//! its reactions ([`react`](super::react)).

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, Applied, Batch, InboundMessage, MessageOutcome};
use local_runtime::{Report, outcome};
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::Exit;
use crate::cli::ExecArgs;
use crate::context::Context;
use crate::verbs::react::Runner;
use crate::{message, output};

/// What `exec` prints of a command that applied: its outcome, the state
/// after, and what the reactions did (`null` when they did not run).
struct Executed {
    outcome: MessageOutcome,
    state: Option<AggregateState>,
    reactions: Option<Report>,
    line: Line,
}

/// One JSON object, its keys (and those of the state and the reactions)
/// in alphabetical order.
impl Serialize for Executed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "outcome": output::outcome_json(&self.outcome),
            "state": self.state,
            "reactions": self.reactions,
        })
        .serialize(s)
    }
}

/// The first text line's parts.
struct Line {
    applied: Applied,
    key: AggregateKey,
    command: String,
    command_id: String,
}

/// What `exec --json` prints of a command refused (its reason goes to
/// stderr in both forms).
#[derive(Serialize)]
struct Refused {
    #[serde(serialize_with = "outcome_json")]
    outcome: MessageOutcome,
}

fn outcome_json<S: Serializer>(outcome: &MessageOutcome, s: S) -> Result<S::Ok, S::Error> {
    output::outcome_json(outcome).serialize(s)
}

/// Nothing on stdout: the refusal is on stderr.
impl fmt::Display for Refused {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

/// `applied v2: order#o-1 ReserveItem (commandId c-1)`, the state line,
/// then the reactions.
impl fmt::Display for Executed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Line {
            applied,
            key,
            command,
            command_id,
        } = &self.line;
        let note = match applied.stale {
            Some(why) => format!(" (a fired alarm with no effect, {why}: nothing written)"),
            None if applied.duplicate => " (already applied: nothing written)".to_owned(),
            None => String::new(),
        };
        writeln!(
            f,
            "{} v{}: {key} {command} (commandId {command_id}){note}",
            applied.outcome(),
            applied.version,
        )?;
        if let Some(head) = &self.state {
            writeln!(f, "{}", output::state_line(key, head))?;
        }
        if let Some(reactions) = &self.reactions {
            write!(f, "{reactions}")?;
        }
        Ok(())
    }
}

impl output::VerbReport for Executed {}
impl output::VerbReport for Refused {}

/// Runs the command. Exits 0 when it applied (or had applied before), 1 when
/// it was rejected or failed, or when one of its reactions (or alarms) failed
/// transiently and is left for the next run.
pub(crate) fn run(ctx: &Context<'_>, exec: &ExecArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let args = &exec.command;
    let message_id = message::fresh_id();
    let command_id = args
        .command_id
        .clone()
        .unwrap_or_else(|| message_id.clone());
    let message = InboundMessage::new(message_id, message::body(args, &command_id).to_string());
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);

    let runner = Runner::new(ctx, exec.clock.clock(), &exec.after)?;
    let report = ctx.block_on(runner.handle(Batch::standard(vec![message])));
    let outcome = report
        .outcomes
        .into_iter()
        .next()
        .context("the handler reported no outcome for the command")?;

    let applied = match &outcome.result {
        Ok(applied) => *applied,
        Err(_) => {
            let reason = outcome::text(&outcome.result);
            output::emit(ctx.global, out, &Refused { outcome })?;
            output::note(&reason);
            return Ok(Exit::Refused);
        }
    };
    let reactions = runner.after_batch(ctx, &exec.after)?;
    // A reaction or alarm left for the next run (it failed transiently) is
    // work not done: exit 1, as `cmdctl run` does.
    let exit = if reactions.as_ref().is_none_or(Report::finished) {
        Exit::Ok
    } else {
        Exit::Refused
    };
    let state = ctx
        .block_on(runner.head(&key))
        .with_context(|| format!("cannot read the state of {key}"))?;
    output::emit(
        ctx.global,
        out,
        &Executed {
            outcome,
            state,
            reactions,
            line: Line {
                applied,
                key,
                command: args.command.clone(),
                command_id,
            },
        },
    )?;
    Ok(exit)
}
