//! `cmdctl dlq purge`: every message of the DLQ deleted, once the operator
//! confirmed it (the queue's name typed on a terminal, or `--yes`). A queue
//! that is no queue's DLQ is refused before anything is asked.

use std::fmt;
use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};
use serde::{Serialize, Serializer};
use serde_json::json;
use sqs_dead_letter::queues;

use super::dlq_url;
use crate::Exit;
use crate::cli::PurgeArgs;
use crate::context::Context;
use crate::output;

/// Purges after confirmation. Exits 1 when not confirmed; 2 without `--yes`
/// when stdin is not a terminal.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &PurgeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let dlq = dlq_url(ctx, &args.target)?;
    let name = queues::queue_name(&dlq).to_owned();
    let sqs = ctx.sqs();
    // Before asking: a live queue's URL given by mistake is refused here.
    let sources = ctx.block_on(queues::ensure_dead_letter_queue(&sqs, &dlq))?;
    let count = ctx.block_on(queues::approximate_visible(&sqs, &dlq))?;
    if !args.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            bail!(
                "refusing to purge {dlq} without confirmation: stdin is not a terminal, so give --yes"
            );
        }
        let mut err = std::io::stderr();
        write!(
            err,
            "This deletes the {count} messages of {name} (the dead-letter queue of {}) for good.\nType the DLQ's name to confirm: ",
            sources.join(", ")
        )?;
        err.flush()?;
        let mut answer = String::new();
        stdin
            .lock()
            .read_line(&mut answer)
            .context("cannot read the confirmation")?;
        if answer.trim() != name {
            output::note("not confirmed: nothing purged");
            return Ok(Exit::Refused);
        }
    }
    ctx.block_on(queues::purge(&sqs, &dlq))?;
    output::emit(ctx.global, out, &Purged { dlq, count })?;
    Ok(Exit::Ok)
}

/// The queue purged, and about how many messages it held.
struct Purged {
    dlq: String,
    count: u64,
}

/// One object, its keys in alphabetical order.
impl Serialize for Purged {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({ "purged": self.dlq, "approximateMessages": self.count }).serialize(s)
    }
}

impl fmt::Display for Purged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "purged {} (about {} messages)", self.dlq, self.count)
    }
}

impl output::VerbReport for Purged {}
