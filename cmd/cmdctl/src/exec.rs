//! `cmdctl exec`: one command, built as a CONTRACT §2 message body and run
//! through the handler as a one-message batch.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use handler_core::{AggregateKey, Batch, EventStore, InboundMessage};
use serde_json::{Map, Value, json};

use crate::Exit;
use crate::cli::{ExecArgs, GlobalArgs};
use crate::{context, output};

/// Runs the command. Exits 0 when it applied (or had applied before), 1 when
/// it was rejected or failed.
pub(crate) fn run(
    global: &GlobalArgs,
    args: &ExecArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let message_id = fresh_id();
    let command_id = args
        .command_id
        .clone()
        .unwrap_or_else(|| message_id.clone());
    let message = InboundMessage::new(message_id, body(args, &command_id).to_string());
    let key = AggregateKey::new(&args.aggregate_type, &args.aggregate_id);

    let handler = context::handler(global)?;
    let runtime = context::runtime()?;
    let report = runtime.block_on(handler.handle(Batch::standard(vec![message])));
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
    let head = runtime
        .block_on(handler.store().load(&key, &[]))
        .with_context(|| format!("cannot read the state of {key}"))?
        .head;

    if global.json {
        output::write_json(
            out,
            &json!({ "outcome": output::outcome_json(&outcome), "state": head }),
        )?;
        return Ok(Exit::Ok);
    }
    let note = if applied.duplicate {
        " (already applied: nothing written)"
    } else {
        ""
    };
    writeln!(
        out,
        "{}: {key} {} (commandId {command_id}){note}",
        output::outcome_text(&outcome.result),
        args.command,
    )?;
    if let Some(head) = &head {
        writeln!(out, "{}", output::state_line(&key, head))?;
    }
    Ok(Exit::Ok)
}

/// The message body (CONTRACT §2), optional fields only when given.
fn body(args: &ExecArgs, command_id: &str) -> Value {
    let mut body = Map::new();
    body.insert("commandId".into(), json!(command_id));
    body.insert("aggregateType".into(), json!(args.aggregate_type));
    body.insert("aggregateId".into(), json!(args.aggregate_id));
    body.insert("command".into(), json!(args.command));
    if let Some(payload) = &args.payload {
        body.insert("payload".into(), Value::Object(payload.clone()));
    }
    if let Some(version) = args.expected_version {
        body.insert("expectedVersion".into(), json!(version));
    }
    if let Some(metadata) = &args.metadata {
        body.insert("metadata".into(), Value::Object(metadata.clone()));
    }
    Value::Object(body)
}

/// `cmdctl-<unix nanos>-<pid>`: unique enough for one operator's commands.
fn fresh_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cmdctl-{nanos}-{}", std::process::id())
}
