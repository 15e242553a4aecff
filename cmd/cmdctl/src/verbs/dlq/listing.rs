//! `cmdctl dlq list` and `dlq show`: the DLQ's messages, each with the
//! failure record the handler wrote for it.

use std::fmt;
use std::io::Write;

use local_runtime::outcome::one_line;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value, json};
use sqs_dead_letter::peek::{self, PeekOptions};
use sqs_dead_letter::{DeadLetter, Explained};

use super::dlq_url;
use crate::Exit;
use crate::cli::{ListDlqArgs, ShowArgs};
use crate::context::Context;
use crate::output;
use crate::progress::Bar;

/// Lists every message (up to `--limit`). Exits 0, also when there are
/// none.
pub(crate) fn list(
    ctx: &Context<'_>,
    args: &ListDlqArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let dlq = dlq_url(ctx, &args.target)?;
    let options = PeekOptions {
        limit: args.limit,
        ..PeekOptions::default()
    };
    let explained = explained(ctx, &dlq, &options)?;
    output::emit(ctx.global, out, &Letters { dlq, explained })?;
    Ok(Exit::Ok)
}

/// The DLQ's messages, each with its failure record.
struct Letters {
    dlq: String,
    explained: Vec<Explained>,
}

/// An array of summaries.
impl Serialize for Letters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.explained.iter().map(summary_json))
    }
}

/// A table, one row a message; nothing when there are none.
impl fmt::Display for Letters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.explained.is_empty() {
            return Ok(());
        }
        let header = [
            "messageId",
            "aggregate",
            "command",
            "receives",
            "failures",
            "firstFailure",
            "lastFailure",
            "reason",
        ];
        let mut rows = vec![header.map(str::to_owned).to_vec()];
        rows.extend(self.explained.iter().map(|e| {
            vec![
                e.letter.message_id.clone(),
                dash(e.aggregate()),
                dash(e.command()),
                dash(e.letter.receive_count.map(|n| n.to_string())),
                dash(e.failure.as_ref().map(|f| f.failures.to_string())),
                dash(e.first_failed_at().map(str::to_owned)),
                dash(e.last_failed_at().map(str::to_owned)),
                reason_text(e),
            ]
        }));
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Letters {
    fn notes(&self) -> Vec<String> {
        if self.explained.is_empty() {
            vec![format!("no messages in {}", self.dlq)]
        } else {
            Vec::new()
        }
    }
}

/// Shows one message. Exits 1 when it is not in the DLQ.
pub(crate) fn show(
    ctx: &Context<'_>,
    args: &ShowArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let dlq = dlq_url(ctx, &args.target)?;
    let explained = explained(ctx, &dlq, &PeekOptions::default())?;
    let Some(found) = explained
        .into_iter()
        .find(|e| e.letter.matches(&args.message_id))
    else {
        output::note(&format!("no message {} in {dlq}", args.message_id));
        return Ok(Exit::Refused);
    };
    output::emit(ctx.global, out, &Letter(found))?;
    Ok(Exit::Ok)
}

/// One message of the DLQ, with its failure record.
struct Letter(Explained);

impl Serialize for Letter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        detail_json(&self.0).serialize(s)
    }
}

/// A table of its fields and attributes, then `body:` and the body
/// (pretty when it is JSON).
impl fmt::Display for Letter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let found = &self.0;
        let letter = &found.letter;
        let mut rows = vec![
            row("messageId", Some(letter.message_id.clone())),
            row(
                "originalMessageId",
                Some(letter.original_message_id().to_owned()),
            ),
            row("aggregate", found.aggregate()),
            row("command", found.command()),
            row("commandId", found.command_id()),
            row("code", found.code().map(str::to_owned)),
            row("reason", found.reason().map(one_line)),
            row(
                "failures",
                found.failure.as_ref().map(|f| f.failures.to_string()),
            ),
            row("firstFailure", found.first_failed_at().map(str::to_owned)),
            row("lastFailure", found.last_failed_at().map(str::to_owned)),
            row(
                "lastReceiveCount",
                found
                    .failure
                    .as_ref()
                    .and_then(|f| f.last.receive_count)
                    .map(|n| n.to_string()),
            ),
            row("receives", letter.receive_count.map(|n| n.to_string())),
            row("sent", letter.sent_at()),
            row("firstReceived", letter.first_received_at()),
            row("messageGroupId", letter.message_group_id.clone()),
        ];
        if let Some(error) = &found.lookup_error {
            rows.push(row("failureRecord", Some(format!("unreadable: {error}"))));
        }
        for (name, value) in string_attributes(letter) {
            rows.push(vec![format!("attribute {name}"), value]);
        }
        f.write_str(&output::table(&rows))?;
        writeln!(f, "body:")?;
        match serde_json::from_str::<Value>(&letter.body) {
            Ok(body) => {
                let pretty = serde_json::to_string_pretty(&body).map_err(|_| fmt::Error)?;
                writeln!(f, "{pretty}")
            }
            Err(_) => writeln!(f, "{}", letter.body),
        }
    }
}

impl output::VerbReport for Letter {}

/// The DLQ's messages (made visible again), with their failure records
/// when the store can be read.
fn explained(
    ctx: &Context<'_>,
    dlq: &str,
    options: &PeekOptions,
) -> anyhow::Result<Vec<Explained>> {
    let sqs = ctx.sqs();
    let bar = Bar::new(ctx, "reading the dead-letter queue");
    let letters = ctx.block_on(peek::peek(&sqs, dlq, options, &bar))?;
    drop(bar);
    Ok(match ctx.existing_store()? {
        Some(store) => ctx.block_on(sqs_dead_letter::explain(&store, letters)),
        None => letters.into_iter().map(Explained::unexplained).collect(),
    })
}

fn dash(value: Option<String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "-".to_owned())
}

fn row(name: &str, value: Option<String>) -> Vec<String> {
    vec![name.to_owned(), dash(value)]
}

/// `code: reason`, on one line; or why there is none.
fn reason_text(e: &Explained) -> String {
    match (e.code(), e.reason(), &e.lookup_error) {
        (Some(code), Some(reason), _) => {
            format!("{code}: {}", one_line(reason))
        }
        (Some(code), None, _) => code.to_owned(),
        (None, _, Some(error)) => format!("(failure record unreadable: {error})"),
        (None, _, None) => "(no failure record)".to_owned(),
    }
}

fn string_attributes(letter: &DeadLetter) -> Vec<(String, String)> {
    let mut attributes: Vec<(String, String)> = letter
        .message_attributes
        .iter()
        .map(|(name, value)| {
            let text = value
                .string_value()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("({})", value.data_type()));
            (name.clone(), text)
        })
        .collect();
    attributes.sort();
    attributes
}

/// A `dlq list --json` item.
fn summary_json(e: &Explained) -> Value {
    let letter = &e.letter;
    json!({
        "messageId": letter.message_id,
        "originalMessageId": letter.original_message_id(),
        "aggregate": e.aggregate(),
        "command": e.command(),
        "commandId": e.command_id(),
        "receiveCount": letter.receive_count,
        "failures": e.failure.as_ref().map(|f| f.failures),
        "firstFailedAt": e.first_failed_at(),
        "lastFailedAt": e.last_failed_at(),
        "code": e.code(),
        "reason": e.reason(),
        "permanent": e.failure.as_ref().map(|f| f.last.permanent),
        "rejectedToDlq": letter.is_rejection_copy(),
        "sentAt": letter.sent_at(),
        "firstReceivedAt": letter.first_received_at(),
        "messageGroupId": letter.message_group_id,
        "failureRecordError": e.lookup_error.as_ref().map(ToString::to_string),
    })
}

/// The `dlq show --json` document: the summary, the body, the attributes
/// and the failure record.
fn detail_json(e: &Explained) -> Value {
    let mut doc = summary_json(e);
    let attributes: Map<String, Value> = string_attributes(&e.letter)
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    doc["body"] = json!(e.letter.body);
    doc["attributes"] = Value::Object(attributes);
    doc["failure"] = json!(e.failure);
    doc
}
