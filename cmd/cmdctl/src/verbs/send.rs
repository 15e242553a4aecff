//! `cmdctl send`: one command message onto an SQS queue, for the Lambda or
//! `cmdctl worker` to handle; `--file` hands over to [`file`].

use std::fmt;
use std::io::Write;

use anyhow::{Context as _, bail};
use command_messages::is_fifo_queue_url;
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::Exit;
use crate::cli::SendArgs;
use crate::context::Context;
use crate::{aws_error, message, output};

mod file;

/// Sends the message; prints its SQS message id.
pub(crate) fn run(ctx: &Context<'_>, args: &SendArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let Some(command) = args.command() else {
        let file = args
            .file
            .as_deref()
            .context("give TYPE ID COMMAND, or --file FILE")?;
        return file::run(ctx, file, &args.queue_url, out);
    };
    let command = &command;
    // Always set: the idempotency key, and a FIFO queue's deduplication id.
    let command_id = command.command_id.clone().unwrap_or_else(message::fresh_id);
    let body = message::body(command, &command_id).to_string();
    // Refuse here what the handler would refuse as malformed, rather than
    // queue a message that can only fail.
    if let Err(e) = handler_core::parse_command(&body, &command_id) {
        bail!("the command would be refused: {e}");
    }
    let fifo = is_fifo_queue_url(&args.queue_url);
    let group = fifo.then(|| message::new_command(command).group_id());

    let sqs = ctx.sqs();
    let mut send = sqs
        .send_message()
        .queue_url(&args.queue_url)
        .message_body(&body);
    if let Some(group) = &group {
        send = send
            .message_group_id(group)
            .message_deduplication_id(&command_id);
    }
    let sent = ctx
        .block_on(send.send())
        .map_err(|e| aws_error::error(&e))
        .with_context(|| format!("cannot send to {}", args.queue_url))?;
    let message_id = sent.message_id().unwrap_or_default();

    output::emit(
        ctx.global,
        out,
        &Sent {
            message_id: message_id.to_owned(),
            command_id,
            queue_url: args.queue_url.clone(),
            message_group_id: group,
            sequence_number: sent.sequence_number().map(str::to_owned),
        },
    )?;
    Ok(Exit::Ok)
}

/// The message sent; its text is the SQS message id.
struct Sent {
    message_id: String,
    command_id: String,
    queue_url: String,
    message_group_id: Option<String>,
    sequence_number: Option<String>,
}

/// One object, its keys in alphabetical order.
impl Serialize for Sent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "messageId": self.message_id,
            "commandId": self.command_id,
            "queueUrl": self.queue_url,
            "messageGroupId": self.message_group_id,
            "sequenceNumber": self.sequence_number,
        })
        .serialize(s)
    }
}

impl fmt::Display for Sent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message_id)
    }
}

impl output::VerbReport for Sent {}
