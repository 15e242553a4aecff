//! `cmdctl send --file`: many command messages onto an SQS queue. Every
//! line is checked before anything is sent (all or nothing); then they go by
//! `SendMessageBatch`, and each entry SQS refuses is reported by its line.
//!
//! Every line is sent with a `commandId` in its body, on every queue type:
//! its own, or one derived from the line (`file_line_command_id`, in `command_messages::file_lines`), the same
//! on every run. An SDK retry of an ambiguous `SendMessageBatch`, or the
//! file run again after a partial failure, then puts a line on the queue
//! twice but applies it once.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use command_messages::chunking::batches;
use command_messages::file_lines::{BadLine, Line, parse_lines};
use command_messages::is_fifo_queue_url;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use sqs_batch::{Outgoing, send_batch};

use crate::Exit;
use crate::context::Context;
use crate::progress::Bar;
use crate::{aws_error, output};

/// What the sends came to, by line number.
#[derive(Debug, Default)]
struct Sent {
    sent: Vec<(usize, String)>,
    failed: Vec<(usize, String)>,
}

/// Sends every command of `file` (or stdin for `-`). Exits 2, sending
/// nothing, if any line is invalid; 1 if SQS refused some.
pub(crate) fn run(
    ctx: &Context<'_>,
    file: &Path,
    queue_url: &str,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let (name, text) = read(file)?;
    let fifo = is_fifo_queue_url(queue_url);
    let lines = match parse_lines(&text, fifo) {
        Ok(lines) => lines,
        Err(bad) => {
            output::emit(ctx.global, out, &Invalid(&bad))?;
            for b in &bad {
                output::note(&format!("{name}:{}: {}", b.number, b.error));
            }
            output::note(&format!(
                "nothing sent: {} invalid line(s) in {name}",
                bad.len()
            ));
            return Ok(Exit::Invalid);
        }
    };

    let bar = Bar::new(ctx, "sending");
    bar.set_total(lines.len() as u64);
    let sqs = ctx.sqs();
    let sent = ctx.block_on(send_all(&sqs, queue_url, &lines, &bar))?;
    drop(bar);

    output::emit(
        ctx.global,
        out,
        &SendReport {
            name: &name,
            queue_url,
            lines: &lines,
            sent: &sent,
        },
    )?;
    for (number, reason) in &sent.failed {
        output::note(&format!("{name}:{number}: not sent: {reason}"));
    }
    Ok(if sent.failed.is_empty() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

/// A file with invalid lines: nothing sent.
struct Invalid<'a>(&'a [BadLine]);

/// `{sent: [], failed: [], invalid: [...]}`.
impl Serialize for Invalid<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let invalid: Vec<Value> = self
            .0
            .iter()
            .map(|b| json!({ "line": b.number, "error": b.error }))
            .collect();
        json!({ "sent": [], "failed": [], "invalid": invalid }).serialize(s)
    }
}

/// Nothing on stdout: each invalid line is named on stderr.
impl fmt::Display for Invalid<'_> {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl output::VerbReport for Invalid<'_> {}

/// What the sends of a file came to.
struct SendReport<'a> {
    /// The file's name (`stdin` for `-`).
    name: &'a str,
    queue_url: &'a str,
    lines: &'a [Line],
    sent: &'a Sent,
}

/// Each line sent (with its ids) and each refused, keys in alphabetical
/// order.
impl Serialize for SendReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let by_line = |number: usize| self.lines.iter().find(|l| l.number == number);
        let sent_json: Vec<Value> = self
            .sent
            .sent
            .iter()
            .map(|(number, id)| {
                json!({
                    "line": number,
                    "messageId": id,
                    "commandId": by_line(*number).map(|l| l.command_id.clone()),
                    "messageGroupId": by_line(*number).and_then(|l| l.group.clone()),
                })
            })
            .collect();
        let failed_json: Vec<Value> = self
            .sent
            .failed
            .iter()
            .map(|(number, reason)| json!({ "line": number, "reason": reason }))
            .collect();
        json!({ "queueUrl": self.queue_url, "sent": sent_json, "failed": failed_json, "invalid": [] })
            .serialize(s)
    }
}

/// `sent 3 of 4 commands from FILE to URL`.
impl fmt::Display for SendReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sent {} of {} commands from {} to {}",
            self.sent.sent.len(),
            self.lines.len(),
            self.name,
            self.queue_url
        )
    }
}

impl output::VerbReport for SendReport<'_> {}

/// The text of `path`, or of stdin for `-`, with a name for messages.
fn read(path: &Path) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read commands from stdin")?;
        return Ok(("stdin".to_owned(), text));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), text))
}

/// Sends the lines in batches. A request that fails as a whole stops the
/// sending: an error if nothing was sent yet, else the rest are reported
/// as not sent.
async fn send_all(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    lines: &[Line],
    bar: &Bar,
) -> anyhow::Result<Sent> {
    let sizes: Vec<usize> = lines.iter().map(|l| l.body.len()).collect();
    let mut outcome = Sent::default();
    let mut stopped: Option<String> = None;
    for range in batches(&sizes) {
        let chunk = &lines[range];
        if let Some(reason) = &stopped {
            outcome
                .failed
                .extend(chunk.iter().map(|l| (l.number, reason.clone())));
            continue;
        }
        let messages: Vec<Outgoing> = chunk.iter().map(outgoing).collect();
        let answer = match send_batch(sqs, queue_url, &messages).await {
            Ok(answer) => answer,
            Err(e) if outcome.sent.is_empty() => {
                return Err(aws_error::error(&e))
                    .with_context(|| format!("cannot send to {queue_url}"));
            }
            Err(e) => {
                let reason = aws_error::describe(&e);
                outcome
                    .failed
                    .extend(chunk.iter().map(|l| (l.number, reason.clone())));
                stopped = Some(format!("stopped after an earlier failure: {reason}"));
                continue;
            }
        };
        for (i, message_id) in answer.sent {
            if let Some(line) = chunk.get(i) {
                outcome.sent.push((line.number, message_id));
                bar.advance(1);
            }
        }
        for refused in &answer.refused {
            if let Some(line) = chunk.get(refused.index) {
                outcome.failed.push((line.number, refused.to_string()));
            }
        }
    }
    outcome.sent.sort();
    outcome.failed.sort();
    Ok(outcome)
}

/// The message to send: on a FIFO queue, deduplicated by its `commandId`.
fn outgoing(line: &Line) -> Outgoing {
    let message = Outgoing::new(&line.body);
    match &line.group {
        Some(group) => message.in_group(group, &line.command_id),
        None => message,
    }
}
