//! `cmdctl exec`: one command as a one-message batch (its arguments are
//! shared with `send`).

use clap::Args;
use serde_json::{Map, Value};

use super::{aggregate_type, json_object};

/// One command: `exec` and `send`.
#[derive(Debug, Args)]
pub(crate) struct CommandArgs {
    /// The aggregate type, which names its config (e.g. `order`).
    #[arg(value_name = "TYPE", value_parser = aggregate_type)]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
    /// The command's name (e.g. `CreateOrder`).
    #[arg(value_name = "COMMAND")]
    pub(crate) command: String,
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
}

/// `exec`: one command, then its reactions.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    #[command(flatten)]
    pub(crate) command: CommandArgs,
    #[command(flatten)]
    pub(crate) after: super::AfterBatchArgs,
    #[command(flatten)]
    pub(crate) clock: super::ClockArgs,
}
