//! How results are printed: the text form for people, and the `--json` form
//! for scripts. Verbs decide what to print; this module decides how.

use std::fmt::Display;
use std::io::{self, Write};

use handler_core::state_machine::AggregateState;
use handler_core::{AggregateKey, MessageOutcome};
use local_runtime::outcome;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::cli::GlobalArgs;

/// What a verb prints: its `--json` form is its `Serialize` (one line on
/// stdout), its text form its `Display` (stdout), then its notes (stderr).
pub(crate) trait VerbReport: Serialize + Display {
    /// What the text form says on stderr after the stdout text (that there
    /// is nothing to show, where to go on): none by default.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Writes a verb's report: its JSON with `--json`, else its text and notes.
/// The one place that looks at `--json` for a verb's output.
pub(crate) fn emit(
    global: &GlobalArgs,
    out: &mut dyn Write,
    report: &impl VerbReport,
) -> anyhow::Result<()> {
    if global.json {
        return write_json(out, report);
    }
    write!(out, "{report}")?;
    for line in report.notes() {
        note(&line);
    }
    Ok(())
}

/// The run's counts: `cmdctl run`, and after a batch.
impl VerbReport for local_runtime::Report {}

/// Writes `value` as one line of compact JSON.
pub(crate) fn write_json(out: &mut dyn Write, value: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Rows as a table: columns padded to their widest cell, two spaces apart,
/// the last column unpadded; one line each.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[c]));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// Writes a line on stderr; a closed stderr is not worth failing for.
pub(crate) fn note(message: &str) {
    let _ = writeln!(io::stderr(), "{message}");
}

/// A message's table row: message id, aggregate, command, outcome.
pub(crate) fn outcome_row(outcome: &MessageOutcome) -> Vec<String> {
    vec![
        outcome.message_id.clone(),
        outcome
            .aggregate
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string),
        outcome.command.clone().unwrap_or_else(|| "-".to_owned()),
        outcome::text(&outcome.result),
    ]
}

/// A message's outcome as JSON: `messageId`, `aggregate`, `command`,
/// `commandId` (null when the body could not be parsed), `outcome`, then
/// `version` and `duplicate` (and `stale`, why a fired alarm had no effect),
/// or `reasonCode`, `reason` and `permanent`.
pub(crate) fn outcome_json(outcome: &MessageOutcome) -> Value {
    let mut object = Map::new();
    object.insert("messageId".into(), json!(outcome.message_id));
    object.insert(
        "aggregate".into(),
        json!(outcome.aggregate.as_ref().map(ToString::to_string)),
    );
    object.insert("command".into(), json!(outcome.command));
    object.insert("commandId".into(), json!(outcome.command_id));
    object.insert("outcome".into(), json!(outcome::word(&outcome.result)));
    match &outcome.result {
        Ok(applied) => {
            object.insert("version".into(), json!(applied.version));
            object.insert("duplicate".into(), json!(applied.duplicate));
            if let Some(why) = applied.stale {
                object.insert("stale".into(), json!(why.to_string()));
            }
        }
        Err(failure) => {
            object.insert("reasonCode".into(), json!(failure.code()));
            object.insert("reason".into(), json!(failure.to_string()));
            object.insert("permanent".into(), json!(failure.is_permanent()));
        }
    }
    Value::Object(object)
}

/// `order#o-1 -> Created (v1)`.
pub(crate) fn state_line(key: &AggregateKey, state: &AggregateState) -> String {
    format!("{key} -> {} (v{})", state.state, state.version)
}

pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}
