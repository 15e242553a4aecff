//! `cmdctl dlq redrive`: DLQ messages back to the source queue, through
//! [`sqs_dead_letter::Redrive`] (SQS's move task for `--all` where the
//! service has one and every body carries its `commandId`, else
//! send-then-delete).

use std::fmt;
use std::io::Write;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use sqs_dead_letter::move_task::{self, MoveTask};
use sqs_dead_letter::{NotMoved, Redrive, RedriveMethod, RedriveOptions, RedriveReport, Selection};

use super::{dlq_url, source_url};
use crate::Exit;
use crate::cli::RedriveArgs;
use crate::context::Context;
use crate::output;
use crate::progress::Bar;

/// Moves the messages asked for. Exits 1 unless every one was moved.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &RedriveArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let dlq = dlq_url(ctx, &args.target)?;
    let source = source_url(ctx, &args.target, &dlq)?;
    let selection = if args.all {
        Selection::All
    } else {
        Selection::Ids(args.message_ids.clone())
    };
    let sqs = ctx.sqs();
    let redrive = Redrive::new(sqs.clone(), &dlq, &source).with_options(RedriveOptions {
        use_move_task: !args.no_move_task,
        ..RedriveOptions::default()
    });
    let bar = Bar::new(ctx, "redriving");
    let report = ctx.block_on(redrive.run(&selection, &bar))?;
    if let RedriveMethod::MoveTask(task) = &report.method {
        let status = ctx.block_on(move_task::wait(&sqs, task, Duration::from_secs(2), &bar))?;
        drop(bar);
        return move_task_outcome(ctx, task, &status, &dlq, &source, out);
    }
    drop(bar);
    write_report(ctx, &report, &dlq, &source, out)?;
    Ok(if report.is_complete() {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

fn move_task_outcome(
    ctx: &Context<'_>,
    task: &MoveTask,
    status: &move_task::MoveTaskStatus,
    dlq: &str,
    source: &str,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    output::emit(
        ctx.global,
        out,
        &TaskMoved {
            task,
            status,
            dlq,
            source,
        },
    )?;
    if let Some(reason) = &status.failure_reason {
        output::note(&format!("the move task failed: {reason}"));
    }
    Ok(if status.status == "COMPLETED" {
        Exit::Ok
    } else {
        Exit::Refused
    })
}

fn write_report(
    ctx: &Context<'_>,
    report: &RedriveReport,
    dlq: &str,
    source: &str,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let refused = match &report.method {
        RedriveMethod::SendThenDelete { move_task_refused } => move_task_refused.clone(),
        RedriveMethod::MoveTask(_) => None,
    };
    output::emit(
        ctx.global,
        out,
        &Redriven {
            report,
            refused: refused.as_deref(),
            dlq,
            source,
        },
    )?;
    if let Some(reason) = refused {
        output::note(&format!(
            "SQS's message move task was not used ({reason}): sent then deleted instead"
        ));
    }
    for n in &report.send_failed {
        output::note(&format!(
            "{}: not sent, still in the DLQ: {}",
            n.dlq_message_id, n.reason
        ));
    }
    for n in &report.delete_failed {
        output::note(&format!(
            "{}: sent but not deleted, so in both queues (the handler applies it once, by its commandId): {}",
            n.dlq_message_id, n.reason
        ));
    }
    for id in &report.not_found {
        output::note(&format!("{id}: not in {dlq}"));
    }
    if let Some(error) = &report.stopped {
        output::note(&format!("stopped: {error}"));
    }
    Ok(())
}

/// What SQS's message move task did.
struct TaskMoved<'a> {
    task: &'a MoveTask,
    status: &'a move_task::MoveTaskStatus,
    dlq: &'a str,
    source: &'a str,
}

/// One object, its keys in alphabetical order.
impl Serialize for TaskMoved<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "dlqUrl": self.dlq,
            "queueUrl": self.source,
            "method": "moveTask",
            "taskHandle": self.task.handle,
            "status": self.status.status,
            "moved": self.status.moved,
            "failureReason": self.status.failure_reason,
        })
        .serialize(s)
    }
}

impl fmt::Display for TaskMoved<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "SQS moved {} messages from {} to {} (message move task {})",
            self.status.moved,
            self.dlq,
            self.source,
            self.status.status.to_lowercase()
        )
    }
}

impl output::VerbReport for TaskMoved<'_> {}

/// What a redrive by sending then deleting did.
struct Redriven<'a> {
    report: &'a RedriveReport,
    /// Why the move task was not used, when it was refused.
    refused: Option<&'a str>,
    dlq: &'a str,
    source: &'a str,
}

/// One object, its keys in alphabetical order.
impl Serialize for Redriven<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let report = self.report;
        let not_moved = |list: &[NotMoved]| -> Vec<Value> {
            list.iter()
                .map(|n| json!({ "messageId": n.dlq_message_id, "reason": n.reason }))
                .collect()
        };
        let moved: Vec<Value> = report
            .moved
            .iter()
            .map(|m| {
                json!({
                    "messageId": m.dlq_message_id,
                    "originalMessageId": m.original_message_id,
                    "newMessageId": m.source_message_id,
                })
            })
            .collect();
        json!({
            "dlqUrl": self.dlq,
            "queueUrl": self.source,
            "method": "sendThenDelete",
            "moveTaskRefused": self.refused,
            "moved": moved,
            "sendFailed": not_moved(&report.send_failed),
            "deleteFailed": not_moved(&report.delete_failed),
            "notFound": report.not_found,
            "stopped": report.stopped.as_ref().map(ToString::to_string),
        })
        .serialize(s)
    }
}

/// One row a message moved, then how many moved where.
impl fmt::Display for Redriven<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self
            .report
            .moved
            .iter()
            .map(|m| {
                vec![
                    "moved".to_owned(),
                    m.dlq_message_id.clone(),
                    format!("-> {}", m.source_message_id),
                ]
            })
            .collect();
        f.write_str(&output::table(&rows))?;
        let n = self.report.moved.len();
        let noun = if n == 1 { "message" } else { "messages" };
        writeln!(f, "{n} {noun} moved from {} to {}", self.dlq, self.source)
    }
}

impl output::VerbReport for Redriven<'_> {}
