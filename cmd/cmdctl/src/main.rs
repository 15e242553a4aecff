//! `cmdctl`, the operator CLI of the command handler.
//!
//! It runs the handler the Lambda runs, on this machine: over an embedded
//! SQLite event store (`--store`) and a directory of state-machine configs
//! (`--config-dir`). Verbs:
//!
//! - `process FILE|-`: a Lambda SQS event through the handler; prints each
//!   message's outcome and the `batchItemFailures` answer;
//! - `exec TYPE ID COMMAND`: one command as a one-message batch;
//! - `state TYPE ID`, `events TYPE ID`: what the store holds;
//! - `config validate [PATH...]`: checks configs.
//!
//! `--json` switches any verb to machine output on stdout. Logs are JSON
//! lines on stderr, filtered by `RUST_LOG` (default `warn`, so failed
//! messages are logged).
//!
//! Exit codes: 0 done (`process`: the batch ran, even if messages failed);
//! 1 the command was rejected or failed, or the aggregate has no events;
//! 2 invalid input (bad arguments, unreadable or invalid file, invalid
//! config, store that cannot be opened). Errors print as `error: ...` with
//! their causes on stderr.
//!
//! The binary only wires library crates together (`handler-core`,
//! `store-sqlite`, `config-dir`, `lambda-sqs`); it holds no handler logic.
#![forbid(unsafe_code)]

mod cli;
mod config_cmd;
mod context;
mod exec;
mod inspect;
mod logging;
mod output;
mod process;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, ConfigVerb, Verb};

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
    let global = &cli.global;
    let mut stdout = std::io::stdout().lock();
    let out: &mut dyn Write = &mut stdout;
    let exit = match &cli.verb {
        Verb::Process(args) => process::run(global, args, out)?,
        Verb::Exec(args) => exec::run(global, args, out)?,
        Verb::State(args) => inspect::state(global, args, out)?,
        Verb::Events(args) => inspect::events(global, args, out)?,
        Verb::Config(args) => match &args.verb {
            ConfigVerb::Validate(args) => config_cmd::validate(global, args, out)?,
        },
    };
    out.flush()?;
    Ok(exit)
}
