//! `cmdctl send --file`: many command messages onto an SQS queue. Every
//! line is checked before anything is sent (all or nothing); then they go by
//! `SendMessageBatch`, and each entry SQS refuses is reported by its line.
//!
//! Every line is sent with a `commandId` in its body, on every queue type:
//! its own, or one derived from the line ([`file_line_command_id`]), the same
//! on every run. An SDK retry of an ambiguous `SendMessageBatch`, or the
//! file run again after a partial failure, then puts a line on the queue
//! twice but applies it once.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use command_messages::chunking::batches;
use command_messages::command_id::with_command_id;
use command_messages::is_fifo_queue_url;
use handler_core::state_machine::ids::file_line_command_id;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use sqs_batch::{Outgoing, send_batch};

use crate::Exit;
use crate::context::Context;
use crate::progress::Bar;
use crate::{aws_error, output};

/// One command message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// Its line number in the file, from 1.
    pub(crate) number: usize,
    /// The body to send.
    pub(crate) body: String,
    /// Its `commandId`: the line's own, or [`file_line_command_id`].
    pub(crate) command_id: String,
    /// The FIFO message group, `TYPE#ID`.
    pub(crate) group: Option<String>,
}

impl Line {
    /// The message to send: on a FIFO queue, deduplicated by its `commandId`.
    fn outgoing(&self) -> Outgoing {
        let message = Outgoing::new(&self.body);
        match &self.group {
            Some(group) => message.in_group(group, &self.command_id),
            None => message,
        }
    }
}

/// A line that would be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadLine {
    /// Its line number, from 1.
    pub(crate) number: usize,
    /// Why.
    pub(crate) error: String,
}

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

/// Every command of the text, or every line that would be refused. Blank
/// lines and lines starting with `#` are skipped. A line without a
/// `commandId` is given [`file_line_command_id`], written into its body.
pub(crate) fn parse_lines(text: &str, fifo: bool) -> Result<Vec<Line>, Vec<BadLine>> {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let occurrence = seen.entry(trimmed).or_insert(0);
        *occurrence += 1;
        match parse_line(number, trimmed, fifo, *occurrence) {
            Ok(line) => lines.push(line),
            Err(error) => bad.push(BadLine { number, error }),
        }
    }
    if bad.is_empty() { Ok(lines) } else { Err(bad) }
}

fn parse_line(number: usize, text: &str, fifo: bool, occurrence: usize) -> Result<Line, String> {
    let stand_in = format!("line-{number}");
    handler_core::parse_command(text, &stand_in).map_err(|e| e.to_string())?;
    // The same line gets the same id on every run, whatever comes before or
    // after it, so a file sent again (whole, or after a partial failure)
    // applies each command once; two equal lines of one file are two
    // commands. Valid as a FIFO deduplication id.
    let derived = file_line_command_id(text, occurrence);
    let body = with_command_id(text, &derived).ok_or("not a JSON object")?;
    // The id the handler will read: the line's own, or the one written in.
    let command = handler_core::parse_command(&body, &stand_in).map_err(|e| e.to_string())?;
    let group = fifo.then(|| command_messages::envelope::fifo_group(&command.key.to_string()));
    Ok(Line {
        number,
        body,
        command_id: command.command_id,
        group,
    })
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
        let messages: Vec<Outgoing> = chunk.iter().map(Line::outgoing).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_line_command_id_is_pinned() {
        // A file sent again must give each line the id it had.
        assert_eq!(
            file_line_command_id(r#"{"aggregateType":"order"}"#, 1),
            "file-9d120e8197e835f9df7d77b57473093b"
        );
    }

    const CREATE: &str = r#"{"aggregateType":"order","aggregateId":"o-1","command":"CreateOrder","payload":{"itemId":"tea","quantity":1}}"#;

    fn body(line: &Line) -> Value {
        serde_json::from_str(&line.body).unwrap()
    }

    #[test]
    fn skips_blanks_and_comments_and_writes_a_derived_command_id_on_standard_queues() {
        let text = format!(
            "# orders\n\n{CREATE}\n  \n{}\n",
            CREATE.replace("o-1", "o-2")
        );
        let lines = parse_lines(&text, false).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].number, 3);
        assert_eq!(lines[0].command_id, file_line_command_id(CREATE, 1));
        assert_eq!(body(&lines[0])["commandId"], lines[0].command_id.as_str());
        assert_eq!(
            lines[0].body,
            CREATE.replacen(
                '{',
                &format!(r#"{{"commandId":"{}","#, lines[0].command_id),
                1
            ),
            "the rest of the line is sent as it is"
        );
        assert_eq!(lines[0].group, None);
        assert_eq!(lines[1].number, 5);
    }

    #[test]
    fn derived_ids_depend_on_the_line_and_its_occurrence_only() {
        let other = CREATE.replace("o-1", "o-2");
        let whole = format!("{CREATE}\n{other}\n{CREATE}\n");
        let ids = |text: &str, fifo| -> Vec<String> {
            parse_lines(text, fifo)
                .unwrap()
                .into_iter()
                .map(|l| l.command_id)
                .collect()
        };
        let all = ids(&whole, false);
        assert_eq!(all, ids(&whole, false), "the same on every run");
        assert_eq!(all, ids(&whole, true), "and on every queue type");
        assert_ne!(all[0], all[2], "two equal lines are two commands");
        assert_ne!(all[0], all[1]);
        assert_eq!(
            ids(&format!("{CREATE}\n"), false),
            all[..1],
            "a file's first part"
        );
        assert_eq!(
            ids(
                &format!("# new comment\n{other}\n\n{CREATE}\n{CREATE}\n"),
                false
            ),
            [all[1].clone(), all[0].clone(), all[2].clone()],
            "whatever comes before"
        );
        assert!(
            all[0].starts_with("file-") && all[0].len() == 37,
            "{}",
            all[0]
        );
    }

    #[test]
    fn on_fifo_the_group_is_the_aggregate_and_a_given_command_id_is_kept() {
        let with_id = CREATE.replacen('{', r#"{"commandId":"c-9","#, 1);
        let text = format!("{CREATE}\n{with_id}");
        let lines = parse_lines(&text, true).unwrap();
        assert_eq!(lines[0].group.as_deref(), Some("order#o-1"));
        assert_eq!(lines[0].command_id, file_line_command_id(CREATE, 1));
        assert_eq!(body(&lines[0])["commandId"], lines[0].command_id.as_str());
        assert_eq!(body(&lines[0])["payload"]["quantity"], 1);
        assert_eq!(lines[1].command_id, "c-9");
        assert_eq!(lines[1].body, with_id, "a body with its id goes as it is");
    }

    #[test]
    fn every_bad_line_is_reported_with_its_number() {
        let text = format!(
            "{CREATE}\n{{not json\n{}\n[1]\n{}",
            CREATE.replace("\"o-1\"", "\"a#b\""),
            CREATE.replace("CreateOrder\"", "CreateOrder\",\"extra\":1")
        );
        let bad = parse_lines(&text, false).unwrap_err();
        let numbers: Vec<usize> = bad.iter().map(|b| b.number).collect();
        assert_eq!(numbers, [2, 3, 4, 5]);
        assert!(bad[0].error.contains("malformed"), "{:?}", bad[0]);
        assert!(bad[1].error.contains("aggregateId"), "{:?}", bad[1]);
        assert!(bad[3].error.contains("extra"), "{:?}", bad[3]);
    }
}
