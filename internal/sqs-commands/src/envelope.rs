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
    /// use sqs_commands::envelope::NewCommand;
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

    /// The FIFO message group of the command: `TYPE#ID`, so one
    /// aggregate's commands arrive in order.
    pub fn group_id(&self) -> String {
        group_id(self.aggregate_type, self.aggregate_id)
    }
}

/// The FIFO message group of an aggregate's commands: `TYPE#ID`.
pub fn group_id(aggregate_type: &str, aggregate_id: &str) -> String {
    format!("{aggregate_type}#{aggregate_id}")
}
