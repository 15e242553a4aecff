//! `cmdctl worker`: the handler on an SQS queue, through `sqs-worker`, with
//! a summary at the end.

use std::fmt;
use std::io::Write;

use std::sync::Arc;

use serde::{Serialize, Serializer};
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
    output::emit(
        ctx.global,
        out,
        &Polled {
            queue_url: &args.queue_url,
            stats: &stats,
        },
    )?;
    Ok(Exit::Ok)
}

/// What the worker did on the queue.
struct Polled<'a> {
    queue_url: &'a str,
    stats: &'a PollStats,
}

/// The counts, and the queue's URL, keys in alphabetical order.
impl Serialize for Polled<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut doc = serde_json::to_value(self.stats).map_err(serde::ser::Error::custom)?;
        doc["queueUrl"] = json!(self.queue_url);
        doc.serialize(s)
    }
}

/// `3 received, 2 applied, 1 failed in 1 batch`, and what went to the
/// dead-letter queue or could not be deleted.
impl fmt::Display for Polled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stats = self.stats;
        let batches = if stats.batches == 1 {
            "batch"
        } else {
            "batches"
        };
        writeln!(
            f,
            "{} received, {} applied, {} failed in {} {batches}",
            stats.received, stats.applied, stats.failed, stats.batches
        )?;
        if stats.dead_lettered > 0 {
            writeln!(
                f,
                "{} permanently rejected messages sent to the dead-letter queue",
                stats.dead_lettered
            )?;
        }
        if stats.delete_failed > 0 {
            writeln!(
                f,
                "{} applied messages could not be deleted: they will come back as duplicates",
                stats.delete_failed
            )?;
        }
        Ok(())
    }
}

impl output::VerbReport for Polled<'_> {}
