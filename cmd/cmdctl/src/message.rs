//! The command message cmdctl builds for `exec` and `send`: a docs/reference.md §1
//! body from the command line, and the ids it makes up when none is given.

use std::time::{SystemTime, UNIX_EPOCH};

use command_messages::envelope::NewCommand;
use serde_json::Value;

use crate::cli::CommandArgs;

/// The message body, optional fields only when given.
pub(crate) fn body(args: &CommandArgs, command_id: &str) -> Value {
    new_command(args).body(command_id)
}

/// The command's fields as `sqs-commands` takes them.
pub(crate) fn new_command(args: &CommandArgs) -> NewCommand<'_> {
    NewCommand {
        aggregate_type: &args.aggregate_type,
        aggregate_id: &args.aggregate_id,
        command: &args.command,
        payload: args.payload.as_ref(),
        expected_version: args.expected_version,
        metadata: args.metadata.as_ref(),
    }
}

/// `cmdctl-<unix nanos>-<pid>`: unique enough for one operator's commands,
/// and valid as an SQS deduplication id.
pub(crate) fn fresh_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("cmdctl-{nanos}-{}", std::process::id())
}
