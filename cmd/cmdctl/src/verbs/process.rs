//! `cmdctl process`: a Lambda SQS event through the handler, then (on the
//! embedded store) its reactions ([`react`](super::react)), printed as the
//! outcome of each message, what the reactions did, and the answer the
//! Lambda would return.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context as _;
use handler_core::MessageOutcome;
use lambda_sqs::SqsBatchResponse;
use local_runtime::Report;
use serde::{Serialize, Serializer};

use crate::Exit;
use crate::cli::ProcessArgs;
use crate::context::Context;
use crate::output;
use crate::verbs::react::Runner;

/// What `process` prints: every outcome, what the reactions did (`null`
/// when they did not run), and the Lambda's answer beside them (flattened
/// into the JSON form, the last line of the text form).
#[derive(Serialize)]
struct Processed {
    #[serde(serialize_with = "outcomes_json")]
    outcomes: Vec<MessageOutcome>,
    reactions: Option<Report>,
    #[serde(flatten)]
    response: SqsBatchResponse,
}

fn outcomes_json<S: Serializer>(outcomes: &[MessageOutcome], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(outcomes.iter().map(output::outcome_json))
}

/// A table of the outcomes, the reactions, then the answer as JSON.
impl fmt::Display for Processed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<Vec<String>> = self.outcomes.iter().map(output::outcome_row).collect();
        f.write_str(&output::table(&rows))?;
        if let Some(reactions) = &self.reactions {
            write!(f, "{reactions}")?;
        }
        let answer = serde_json::to_string(&self.response).map_err(|_| fmt::Error)?;
        writeln!(f, "{answer}")
    }
}

impl output::VerbReport for Processed {}

/// Runs the event in `args.file`. Exits 0 whenever the batch ran, but 1 when
/// a reaction (or alarm) failed transiently and is left for the next run.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &ProcessArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let (name, text) = read_input(&args.file)?;
    let event = lambda_sqs::parse_event(&text).with_context(|| format!("cannot use {name}"))?;
    let runner = Runner::new(ctx, args.clock.clock(), &args.after)?;
    let report = ctx.block_on(runner.handle(lambda_sqs::to_batch(&event)));
    let response = lambda_sqs::respond(&event, &report);
    let reactions = runner.after_batch(ctx, &args.after)?;
    let exit = if reactions.as_ref().is_none_or(Report::finished) {
        Exit::Ok
    } else {
        Exit::Refused
    };
    output::emit(
        ctx.global,
        out,
        &Processed {
            outcomes: report.outcomes,
            reactions,
            response,
        },
    )?;
    Ok(exit)
}

/// The text of `path`, or of stdin for `-`, with a name for messages.
pub(crate) fn read_input(path: &Path) -> anyhow::Result<(String, String)> {
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
