//! The embedded event processor's options: shared by `process`, `exec` and
//! `run`; `run`'s own checkpoint.

use std::path::PathBuf;

use clap::Args;

/// How the reactions run after a batch (and in `run`).
#[derive(Debug, Args)]
pub(crate) struct ReactArgs {
    /// Write the published events (types whose config says `"publish":
    /// true`) as JSON lines to FILE (appended), or to stdout with `-`
    /// [default: nowhere].
    #[arg(long, value_name = "FILE|-")]
    pub(crate) events: Option<PathBuf>,
    /// Stop after this many rounds of reactions (a round: the new events'
    /// reactions, run through the handler), so that a cycle of reactions
    /// (A causes B causes A ...) cannot run forever. What is left is run by
    /// the next `cmdctl run`.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_rounds: u64,
}

/// `process` and `exec`: the reactions run by default.
#[derive(Debug, Args)]
pub(crate) struct AfterBatchArgs {
    /// Do not run the reactions after the batch (the events stay for a
    /// later `cmdctl run`).
    #[arg(long)]
    pub(crate) no_react: bool,
    #[command(flatten)]
    pub(crate) react: ReactArgs,
}

/// `run`: the reactions, from a checkpoint of the caller's choice.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) react: ReactArgs,
    /// The checkpoint the run reads after and saves to. `local` is the one
    /// `process` and `exec` use; a name never used before reads every event
    /// from the start, so every reaction is delivered again (as a replayed
    /// stream would), and the handler applies none of them twice.
    #[arg(long, value_name = "NAME", default_value = "local")]
    pub(crate) checkpoint: String,
    #[command(flatten)]
    pub(crate) clock: super::ClockArgs,
}
