//! `cmdctl process`: a Lambda SQS event through the handler, then (on the
//! embedded store) its reactions ([`react`](super::react)), printed as the
//! outcome of each message, what the reactions did, and the answer the
//! Lambda would return.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use lambda_sqs::SqsBatchResponse;
use serde::Serialize;
use serde_json::Value;

use crate::Exit;
use crate::cli::ProcessArgs;
use crate::context::Context;
use crate::output;
use crate::verbs::react::{self, Reactions};

/// The `--json` document: every outcome, what the reactions did (`null`
/// when they did not run), and the Lambda's answer beside it.
#[derive(Serialize)]
struct ProcessJson<'a> {
    outcomes: Vec<Value>,
    reactions: Option<Reactions>,
    #[serde(flatten)]
    response: &'a SqsBatchResponse,
}

/// Runs the event in `args.file`. Exits 0 whenever the batch ran, but 1 when
/// a reaction (or alarm) failed transiently and is left for the next run.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ProcessArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let global = ctx.global;
    let (name, text) = read_input(&args.file)?;
    let event = lambda_sqs::parse_event(&text).with_context(|| format!("cannot use {name}"))?;
    let clock = args.clock.clock();
    let handler = ctx.handler(clock.clone())?;
    let report = ctx.block_on(handler.handle(lambda_sqs::to_batch(&event)));
    let response = lambda_sqs::respond(&event, &report);
    let reactions = react::after_batch(ctx, &handler, &clock, &args.after)?;
    let exit = if reactions.as_ref().is_none_or(Reactions::finished) {
        Exit::Ok
    } else {
        Exit::Refused
    };

    if global.json {
        output::write_json(
            out,
            &ProcessJson {
                outcomes: report.outcomes.iter().map(output::outcome_json).collect(),
                reactions,
                response: &response,
            },
        )?;
    } else {
        let rows: Vec<Vec<String>> = report.outcomes.iter().map(output::outcome_row).collect();
        output::write_table(out, &rows)?;
        if let Some(reactions) = &reactions {
            reactions.write_text(out)?;
        }
        output::write_json(out, &response)?;
    }
    Ok(exit)
}

/// The text of `path`, or of stdin for `-`, with a name for messages.
fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the event from stdin")?;
        return Ok(("stdin".to_owned(), text));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((path.display().to_string(), text))
}
