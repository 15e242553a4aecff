//! `cmdctl ingest`: outside events (EventBridge's) from a file.

use std::path::PathBuf;

use clap::Args;

use super::AfterBatchArgs;

/// `ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// One JSON event, or JSON lines of them, or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) after: AfterBatchArgs,
    #[command(flatten)]
    pub(crate) clock: super::ClockArgs,
}
