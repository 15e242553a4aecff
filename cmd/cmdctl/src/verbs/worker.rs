//! `cmdctl worker`: the handler on an SQS queue, through `sqs-worker`, with
//! a summary at the end.

use std::io::Write;

use std::sync::Arc;

use serde_json::json;
use sqs_dlq_sink::SqsDeadLetters;
use sqs_worker::{PollStats, Worker};

use crate::Exit;
use crate::cli::WorkerArgs;
use crate::context::Context;
use crate::output;

/// Polls until ctrl-c (or, with `--until-empty`, until a receive finds
/// nothing); prints what was done. Exits 0 whenever it ran.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &WorkerArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let mut handler = ctx.handler(crate::clock::shared(None))?;
    if let Some(dlq) = &args.reject_to_dlq {
        handler = handler.with_rejection_sink(Arc::new(SqsDeadLetters::new(
            ctx.sqs(),
            dlq,
            std::sync::Arc::new(handler_core::SystemClock),
        )));
    }
    let wait = args
        .wait_seconds
        .unwrap_or(if args.until_empty { 1 } else { 20 });
    let worker = Worker::new(ctx.sqs(), &args.queue_url, handler).with_wait_time_seconds(wait);
    let stats = if args.until_empty {
        ctx.block_on(worker.run_until_empty())?
    } else {
        output::note(&format!(
            "polling {} (store {}, configs {}); ctrl-c to stop",
            args.queue_url,
            ctx.store_spec(),
            ctx.config_spec()
        ));
        ctx.block_on(worker.run())
    };
    summary(ctx, &args.queue_url, &stats, out)?;
    Ok(Exit::Ok)
}

fn summary(
    ctx: &Context<'_>,
    queue_url: &str,
    stats: &PollStats,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    if ctx.global.json {
        let mut doc = serde_json::to_value(stats)?;
        doc["queueUrl"] = json!(queue_url);
        return output::write_json(out, &doc);
    }
    let batches = if stats.batches == 1 {
        "batch"
    } else {
        "batches"
    };
    writeln!(
        out,
        "{} received, {} applied, {} failed in {} {batches}",
        stats.received, stats.applied, stats.failed, stats.batches
    )?;
    if stats.dead_lettered > 0 {
        writeln!(
            out,
            "{} permanently rejected messages sent to the dead-letter queue",
            stats.dead_lettered
        )?;
    }
    if stats.delete_failed > 0 {
        writeln!(
            out,
            "{} applied messages could not be deleted: they will come back as duplicates",
            stats.delete_failed
        )?;
    }
    Ok(())
}
