//! Every id the engine derives, and the one place that hashes one.

use sha2::{Digest, Sha256};

/// The id of a stored event in logs, failure records and publications:
/// `{aggregateType}#{aggregateId}@{version}`.
pub fn event_id(aggregate_type: &str, aggregate_id: &str, version: u64) -> String {
    format!("{aggregate_type}#{aggregate_id}@{version}")
}

/// A reaction's command id: `{event_id}/{index}` when the config building
/// it is the one that recorded the event (`built_by == recorded_by`), else
/// `{event_id}/v{built_by}/{index}`, so that one id never has two meanings
/// when a `then` changed between a send and its retry; over
/// [`MAX_READABLE_ID`] bytes, its SHA-256 in hex followed by `@r`.
///
/// ```
/// use state_machine::ids::reaction_command_id;
/// assert_eq!(reaction_command_id("order#o-1@1", 0, 3, 3), "order#o-1@1/0");
/// assert_eq!(reaction_command_id("order#o-1@1", 0, 3, 4), "order#o-1@1/v4/0");
/// let long = format!("order#{}@1", "x".repeat(300));
/// assert_ne!(reaction_command_id(&long, 0, 3, 3), reaction_command_id(&long, 0, 3, 4));
/// assert!(reaction_command_id(&long, 0, 3, 4).ends_with("@r"));
/// ```
pub fn reaction_command_id(
    event_id: &str,
    index: usize,
    recorded_by: u64,
    built_by: u64,
) -> String {
    let id = if recorded_by == built_by {
        format!("{event_id}/{index}")
    } else {
        format!("{event_id}/v{built_by}/{index}")
    };
    bounded_command_id(id, "@r")
}

/// The command id of alarm `name` set by the event `setting_event`
/// (`{event_id}/alarm/{name}`), so every copy of one firing is one command;
/// over [`MAX_READABLE_ID`] bytes, its SHA-256 in hex followed by `@a`.
pub(crate) fn alarm_command_id(setting_event: &str, name: &str) -> String {
    bounded_command_id(format!("{setting_event}/alarm/{name}"), "@a")
}

/// `id` when it is at most [`MAX_READABLE_ID`] bytes, else its SHA-256 in
/// hex followed by `suffix`.
fn bounded_command_id(id: String, suffix: &str) -> String {
    if id.len() <= MAX_READABLE_ID {
        return id;
    }
    format!("{:x}{suffix}", Sha256::digest(id.as_bytes()))
}

/// A readable command id is at most this long; longer ones are hashed, so
/// every id stays well under the command envelope's limit.
const MAX_READABLE_ID: usize = 200;
