//! `cmdctl dlq redrive`: DLQ messages back to the source queue, through
//! [`sqs_dead_letter::Redrive`] (SQS's move task for `--all` where the
//! service has one and every body carries its `commandId`, else
//! send-then-delete).

use std::io::Write;
use std::time::Duration;

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
    if ctx.global.json {
        output::write_json(
            out,
            &json!({
                "dlqUrl": dlq,
                "queueUrl": source,
                "method": "moveTask",
                "taskHandle": task.handle,
                "status": status.status,
                "moved": status.moved,
                "failureReason": status.failure_reason,
            }),
        )?;
    } else {
        writeln!(
            out,
            "SQS moved {} messages from {dlq} to {source} (message move task {})",
            status.moved,
            status.status.to_lowercase()
        )?;
    }
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
    if ctx.global.json {
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
        output::write_json(
            out,
            &json!({
                "dlqUrl": dlq,
                "queueUrl": source,
                "method": "sendThenDelete",
                "moveTaskRefused": refused,
                "moved": moved,
                "sendFailed": not_moved(&report.send_failed),
                "deleteFailed": not_moved(&report.delete_failed),
                "notFound": report.not_found,
                "stopped": report.stopped.as_ref().map(ToString::to_string),
            }),
        )?;
    } else {
        let rows: Vec<Vec<String>> = report
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
        output::write_table(out, &rows)?;
        let n = report.moved.len();
        let noun = if n == 1 { "message" } else { "messages" };
        writeln!(out, "{n} {noun} moved from {dlq} to {source}")?;
    }
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
