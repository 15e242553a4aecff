//! `cmdctl`, the operator CLI of the command handler.
//!
//! It runs the handler the Lambda runs, on this machine: over an event store
//! (`--store`: an embedded SQLite file, or `dynamodb:TABLE`; default
//! `dynamodb:$DYNAMO_TABLE_NAME` when that is set) and state-machine configs
//! (`--config`: a directory, or `s3://BUCKET/PREFIX`; default
//! `s3://$S3_BUCKET_NAME/$S3_CONFIG_PREFIX` when the bucket is set). The AWS
//! SDK config is loaded once, from the environment, and only when a verb
//! touches AWS. Verbs:
//!
//! - `process FILE|-`: a Lambda SQS event through the handler; prints each
//!   message's outcome and the `batchItemFailures` answer;
//! - `exec TYPE ID COMMAND`: one command as a one-message batch;
//! - `run`: the embedded event processor until quiet (publication as JSON
//!   lines, reactions through the handler, due alarms fired); `process` and
//!   `exec` run it after their batch unless `--no-react`; `--now TIME` on
//!   all three moves the handler's clock (`clock`);
//! - `state TYPE ID`, `events TYPE ID`: what the store holds; `alarms TYPE
//!   ID`: the alarms an aggregate has set;
//! - `events --type TYPE (--since TIME | --from NAME) (--jsonl | --publish)`:
//!   a type's events replayed from the store, checkpointed;
//! - `trace CORRELATION_ID`: the events of one correlation across aggregates;
//! - `config validate [PATH...]`: checks configs; `config upload [PATH...]`:
//!   puts them in S3 when all are valid;
//! - `send TYPE ID COMMAND --queue-url URL`: one command onto SQS;
//!   `send --file FILE`: many, validated first, by `SendMessageBatch`;
//! - `worker --queue-url URL [--until-empty]`: the handler on SQS, as
//!   Lambda's event source mapping runs it (`sqs-worker`);
//! - `setup --table T --bucket B --queue NAME`: the table, bucket, queue and
//!   dead-letter queue, for emulators and dev accounts;
//! - `dlq list|show|redrive|purge`: the dead-letter queue, each message
//!   with its recorded failure reason (`sqs-dead-letter`);
//! - `list TYPE`: the aggregates of a type; `replay TYPE ID`: the state
//!   rebuilt from the events, compared with the stored head;
//! - `config diff [PATH...]`: what `config upload` would change.
//!
//! `--json` switches any verb to machine output on stdout. Long work shows
//! a progress bar on stderr when it is a terminal (never with `--json`). Logs are JSON
//! lines on stderr, filtered by `RUST_LOG` (default `warn`, so failed
//! messages are logged); on a terminal with no `RUST_LOG`, only errors, as
//! text ([`logging`]): the outcome lines name each failure already.
//!
//! Exit codes: 0 done (`process`, `worker`: the messages ran, even if some
//! failed);
//! 1 the command was rejected or failed, or the aggregate has no events;
//! 2 invalid input (bad arguments, unreadable or invalid file, invalid
//! config, store, bucket or queue that cannot be opened or reached).
//! Verbs that compare or move say more in their `--help` (`replay`: 1 when
//! the head differs; `config diff --exit-code`: 1 when something would
//! change; `dlq redrive`: 1 when some message was not moved; `send --file`:
//! 1 when SQS refused some entries). Errors
//! print as `error: ...` with their causes on stderr.
//!
//! The binary only wires library crates together (`handler-core`,
//! `store-sqlite`, `store-dynamodb`, `config-dir`, `config-s3`, `lambda-sqs`,
//! `sqs-worker`, `sqs-commands`, `sqs-dlq-sink`, `sqs-dead-letter`,
//! `event-processor`); it holds no handler logic. Layout: `cli` (clap definitions, the `--help` text),
//! `verbs` (one file per verb group, a folder beside it for its parts), and
//! what the verbs share (`context`, `sources`, `output`, `progress`, `clock`, ...).
#![forbid(unsafe_code)]

mod aws_error;
mod cli;
mod clock;
mod context;
mod logging;
mod message;
mod output;
mod progress;
mod sources;
mod verbs;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, ConfigVerb, Verb};
use crate::context::Context;
use crate::verbs::{
    alarms, config, dlq, exec, ingest, inspect, list, process, react, replay, resend, send, serve,
    setup, trace, tracking, worker,
};

/// What a verb ends with; every error is [`Exit::Invalid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: done.
    Ok,
    /// 1: the command was rejected or failed, or there is nothing to show.
    Refused,
    /// 2: invalid input.
    Invalid,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        match exit {
            Exit::Ok => ExitCode::SUCCESS,
            Exit::Refused => ExitCode::from(1),
            Exit::Invalid => ExitCode::from(2),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    match run(cli) {
        Ok(exit) => exit.into(),
        // The reader went away (`cmdctl events ... | head`): nothing to say.
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            Exit::Invalid.into()
        }
    }
}

/// Runs one verb, writing its output to stdout.
fn run(cli: Cli) -> anyhow::Result<Exit> {
    let ctx = Context::new(&cli.global)?;
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let exit = match &cli.verb {
        Verb::Process(args) => process::run(&ctx, args, out)?,
        Verb::Exec(args) => exec::run(&ctx, args, out)?,
        Verb::Ingest(args) => ingest::run(&ctx, args, out)?,
        Verb::State(args) => inspect::state(&ctx, args, out)?,
        Verb::Alarms(args) => alarms::run(&ctx, args, out)?,
        Verb::Run(args) => react::run(&ctx, args, out)?,
        Verb::Events(args) => match (
            &args.replay.aggregate_type,
            &args.aggregate_type,
            &args.aggregate_id,
        ) {
            (Some(_), _, _) => tracking::run(&ctx, &args.replay, out)?,
            (None, Some(t), Some(id)) => inspect::events(&ctx, t, id, out)?,
            _ => anyhow::bail!("give TYPE ID, or --type TYPE"),
        },
        Verb::Trace(args) => trace::run(&ctx, args, out)?,
        Verb::Resend(args) => resend::run(&ctx, args, out)?,
        Verb::Config(args) => match &args.verb {
            ConfigVerb::Validate(args) => config::validate(&ctx, args, out)?,
            ConfigVerb::Upload(args) => config::upload(&ctx, args, out)?,
            ConfigVerb::Diff(args) => config::diff::run(&ctx, args, out)?,
            ConfigVerb::Bindings(args) => config::bindings::run(&ctx, args, out)?,
            ConfigVerb::Graph(args) => config::graph::run(&ctx, args, out)?,
        },
        Verb::Send(args) => send::run(&ctx, args, out)?,
        Verb::Worker(args) => worker::run(&ctx, args, out)?,
        Verb::Setup(args) => setup::run(&ctx, args, out)?,
        Verb::Dlq(args) => dlq::run(&ctx, args, out)?,
        Verb::List(args) => list::run(&ctx, args, out)?,
        Verb::Replay(args) => replay::run(&ctx, args, out)?,
        Verb::Serve(args) => serve::run(&ctx, args, out)?,
    };
    out.flush()?;
    Ok(exit)
}
