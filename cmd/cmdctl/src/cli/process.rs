//! `cmdctl process`: a Lambda SQS event from a file.

use std::path::PathBuf;

use clap::Args;

use super::AfterBatchArgs;

/// `process`.
#[derive(Debug, Args)]
pub(crate) struct ProcessArgs {
    /// The Lambda SQS event (JSON with `Records`), or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) after: AfterBatchArgs,
    #[command(flatten)]
    pub(crate) clock: super::ClockArgs,
}
