//! `cmdctl send`: one command from the arguments, or many from a file.

use std::path::PathBuf;

use clap::Args;
use serde_json::{Map, Value};

use super::{CommandArgs, aggregate_type, json_object};

/// `send`: one command from the arguments, or many from `--file`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The aggregate type, which names its config (e.g. `order`).
    #[arg(
        value_name = "TYPE",
        required_unless_present = "file",
        value_parser = aggregate_type
    )]
    pub(crate) aggregate_type: Option<String>,
    /// The aggregate's id.
    #[arg(value_name = "ID", required_unless_present = "file")]
    pub(crate) aggregate_id: Option<String>,
    /// The command's name (e.g. `CreateOrder`).
    #[arg(value_name = "COMMAND", required_unless_present = "file")]
    pub(crate) command: Option<String>,
    /// The payload, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub(crate) payload: Option<Map<String, Value>>,
    /// The idempotency key [default: a fresh `cmdctl-<nanos>-<pid>`].
    #[arg(long, value_name = "ID")]
    pub(crate) command_id: Option<String>,
    /// Refuse the command unless the aggregate is at exactly this version
    /// (0 = does not exist yet).
    #[arg(long, value_name = "N")]
    pub(crate) expected_version: Option<u64>,
    /// Metadata copied onto the events, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub(crate) metadata: Option<Map<String, Value>>,
    /// Send every command message of this file instead (JSON Lines: one
    /// docs/reference.md §1 body per line; `-` for stdin).
    #[arg(
        long,
        short = 'f',
        value_name = "FILE",
        conflicts_with_all = ["aggregate_type", "aggregate_id", "command", "payload",
                              "command_id", "expected_version", "metadata"]
    )]
    pub(crate) file: Option<PathBuf>,
    /// The queue to send to.
    #[arg(long, value_name = "URL", env = "CMDCTL_QUEUE_URL")]
    pub(crate) queue_url: String,
}

impl SendArgs {
    /// The one command of the arguments; `None` with `--file`.
    pub(crate) fn command(&self) -> Option<CommandArgs> {
        Some(CommandArgs {
            aggregate_type: self.aggregate_type.clone()?,
            aggregate_id: self.aggregate_id.clone()?,
            command: self.command.clone()?,
            payload: self.payload.clone(),
            command_id: self.command_id.clone(),
            expected_version: self.expected_version,
            metadata: self.metadata.clone(),
        })
    }
}
