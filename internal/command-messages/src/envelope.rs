//! The body of a command message, built from its fields.

use serde_json::{Map, Value, json};

/// A command's fields, as a sender knows them.
#[derive(Debug, Clone, Copy)]
pub struct NewCommand<'a> {
    /// `aggregateType`.
    pub aggregate_type: &'a str,
    /// `aggregateId`.
    pub aggregate_id: &'a str,
    /// `command`.
    pub command: &'a str,
    /// `payload`, when given.
    pub payload: Option<&'a Map<String, Value>>,
    /// `expectedVersion`, when given.
    pub expected_version: Option<u64>,
    /// `metadata`, when given.
    pub metadata: Option<&'a Map<String, Value>>,
}

impl NewCommand<'_> {
    /// The message body, the optional fields only when given.
    ///
    /// ```
    /// use command_messages::envelope::NewCommand;
    /// let command = NewCommand {
    ///     aggregate_type: "order", aggregate_id: "o-1", command: "CreateOrder",
    ///     payload: None, expected_version: Some(0), metadata: None,
    /// };
    /// assert_eq!(
    ///     command.body("c-1").to_string(),
    ///     r#"{"aggregateId":"o-1","aggregateType":"order","command":"CreateOrder","commandId":"c-1","expectedVersion":0}"#
    /// );
    /// ```
    pub fn body(&self, command_id: &str) -> Value {
        let mut body = Map::new();
        body.insert("commandId".into(), json!(command_id));
        body.insert("aggregateType".into(), json!(self.aggregate_type));
        body.insert("aggregateId".into(), json!(self.aggregate_id));
        body.insert("command".into(), json!(self.command));
        if let Some(payload) = self.payload {
            body.insert("payload".into(), Value::Object(payload.clone()));
        }
        if let Some(version) = self.expected_version {
            body.insert("expectedVersion".into(), json!(version));
        }
        if let Some(metadata) = self.metadata {
            body.insert("metadata".into(), Value::Object(metadata.clone()));
        }
        Value::Object(body)
    }

    /// The FIFO message group of the command ([`group_id`]), so one
    /// aggregate's commands arrive in order.
    pub fn group_id(&self) -> String {
        group_id(self.aggregate_type, self.aggregate_id)
    }
}

/// The FIFO message group of an aggregate's commands: `TYPE#ID` when that
/// fits SQS's rule for `MessageGroupId` ([`fifo_group`]), else a hash of it.
pub fn group_id(aggregate_type: &str, aggregate_id: &str) -> String {
    fifo_group(&format!("{aggregate_type}#{aggregate_id}"))
}

/// The longest `MessageGroupId` SQS takes.
pub const MAX_GROUP_ID: usize = 128;

/// True when SQS takes `group` as a `MessageGroupId`: 1 to 128 characters,
/// each an ASCII letter, digit or punctuation mark (`!` to `~`).
///
/// ```
/// use command_messages::envelope::is_valid_group;
/// assert!(is_valid_group("order#o-1"));
/// assert!(!is_valid_group("order#o 1"));
/// assert!(!is_valid_group("order#é"));
/// assert!(!is_valid_group(&"x".repeat(129)));
/// assert!(!is_valid_group(""));
/// ```
pub fn is_valid_group(group: &str) -> bool {
    !group.is_empty() && group.len() <= MAX_GROUP_ID && group.bytes().all(|b| b.is_ascii_graphic())
}

/// The message group for an aggregate key `pk` (`TYPE#ID`): `pk` itself
/// when SQS takes it ([`is_valid_group`]), else `h-` and the SHA-256 of
/// `pk` in hex (66 characters). Deterministic, so each aggregate keeps one
/// group; a hashed group has no `#`, so it never equals a readable one.
/// Every producer of FIFO command messages goes through this function.
///
/// ```
/// use command_messages::envelope::fifo_group;
/// assert_eq!(fifo_group("order#o-1"), "order#o-1");
/// let hashed = fifo_group("order#o 1");
/// assert_eq!(hashed.len(), 66);
/// assert!(hashed.starts_with("h-"));
/// assert_eq!(hashed, fifo_group("order#o 1"));
/// assert_ne!(hashed, fifo_group("order#o  1"));
/// ```
pub fn fifo_group(pk: &str) -> String {
    if is_valid_group(pk) {
        return pk.to_owned();
    }
    state_machine::ids::hashed_message_group(pk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_group_is_pinned() {
        // An aggregate's FIFO group must never change under it: this value
        // is `h-` and the SHA-256 of `order#o 1` in hex.
        assert_eq!(
            fifo_group("order#o 1"),
            "h-7e49008d55fa64a0aa4055e4490ad95d4830b3c26c0de53577fb86381863d435"
        );
    }
}
