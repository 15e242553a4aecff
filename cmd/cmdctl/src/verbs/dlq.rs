//! `cmdctl dlq ...`: the dead-letter queue, through `sqs-dead-letter`.
//! This module finds the queues; its children list, redrive and purge.

mod listing;
mod purge;
mod redrive;

use std::io::Write;

use anyhow::Context as _;
use sqs_dead_letter::queues;

use crate::Exit;
use crate::cli::{DlqArgs, DlqTarget, DlqVerb};
use crate::context::Context;

pub(crate) fn run(ctx: &Context<'_>, args: &DlqArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    match &args.verb {
        DlqVerb::List(args) => listing::list(ctx, args, out),
        DlqVerb::Show(args) => listing::show(ctx, args, out),
        DlqVerb::Redrive(args) => redrive::run(ctx, args, out),
        DlqVerb::Purge(args) => purge::run(ctx, args, out),
    }
}

/// The DLQ: `--dlq-url`, else the redrive policy of `--queue-url`.
fn dlq_url(ctx: &Context<'_>, target: &DlqTarget) -> anyhow::Result<String> {
    if let Some(url) = target.dlq_url.as_ref().filter(|u| !u.is_empty()) {
        return Ok(url.clone());
    }
    let Some(queue) = target.queue_url.as_ref().filter(|u| !u.is_empty()) else {
        anyhow::bail!(
            "which dead-letter queue? give --dlq-url (or CMDCTL_DLQ_URL), or --queue-url (or CMDCTL_QUEUE_URL) of a queue with a redrive policy"
        );
    };
    let sqs = ctx.sqs();
    ctx.block_on(queues::dead_letter_queue_of(&sqs, queue))
        .with_context(|| format!("cannot find the dead-letter queue of {queue}"))
}

/// The source queue: `--queue-url`, else the one queue whose redrive
/// policy names the DLQ.
fn source_url(ctx: &Context<'_>, target: &DlqTarget, dlq_url: &str) -> anyhow::Result<String> {
    if let Some(url) = target.queue_url.as_ref().filter(|u| !u.is_empty()) {
        return Ok(url.clone());
    }
    let sqs = ctx.sqs();
    ctx.block_on(queues::source_queue_of(&sqs, dlq_url))
        .with_context(|| format!("cannot find the source queue of {dlq_url}"))
}
