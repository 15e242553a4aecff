//! `cmdctl setup`: creates, idempotently, the AWS resources the handler
//! needs, for emulators and dev accounts: the event-store table (through
//! `store-dynamodb`, so it has the stream and TTL of docs/reference.md §3), the config
//! bucket (`config-s3`), and the command queue with its dead-letter queue
//! (`sqs-dead-letter`: redrive after 10 receives, docs/reference.md §5).
//! Production stacks come from infrastructure as code; this is its quick
//! stand-in.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use serde::{Serialize, Serializer};
use serde_json::json;
use sqs_dead_letter::create::{QueueNames, Queues, create_queues};

use crate::Exit;
use crate::cli::SetupArgs;
use crate::context::Context;
use crate::output;

/// Creates everything, then prints it and the environment to use it with.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &SetupArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let names = QueueNames::new(&args.queue, args.fifo);
    let (dynamodb, s3, sqs) = (ctx.dynamodb(), ctx.s3(), ctx.sqs());
    let region = ctx.sdk().region().map(ToString::to_string);
    let queues = ctx.block_on(async {
        store_dynamodb::create_table(&dynamodb, &args.table)
            .await
            .with_context(|| format!("cannot create table {}", args.table))?;
        config_s3::create_bucket(&s3, &args.bucket, region.as_deref()).await?;
        create_queues(&sqs, &names, args.visibility_timeout)
            .await
            .context("cannot create the queues")
    })?;

    output::emit(
        ctx.global,
        out,
        &Made {
            queues,
            table: args.table.clone(),
            bucket: args.bucket.clone(),
            prefix: args.prefix.clone(),
            fifo: names.fifo,
        },
    )?;
    Ok(Exit::Ok)
}

/// What `setup` made, and the environment to use it with.
struct Made {
    queues: Queues,
    table: String,
    bucket: String,
    prefix: String,
    fifo: bool,
}

/// One object, its keys in alphabetical order.
impl Serialize for Made {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        json!({
            "queueUrl": self.queues.queue_url,
            "dlqUrl": self.queues.dlq_url,
            "table": self.table,
            "bucket": self.bucket,
            "prefix": self.prefix,
            "fifo": self.fifo,
        })
        .serialize(s)
    }
}

/// A table of what was made, a blank line, then the `export` lines.
impl fmt::Display for Made {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows = vec![
            vec!["queue".to_owned(), self.queues.queue_url.clone()],
            vec!["dlq".to_owned(), self.queues.dlq_url.clone()],
            vec!["table".to_owned(), self.table.clone()],
            vec!["bucket".to_owned(), self.bucket.clone()],
        ];
        f.write_str(&output::table(&rows))?;
        writeln!(f)?;
        writeln!(f, "export DYNAMO_TABLE_NAME={}", shell_word(&self.table))?;
        writeln!(f, "export S3_BUCKET_NAME={}", shell_word(&self.bucket))?;
        writeln!(f, "export S3_CONFIG_PREFIX={}", shell_word(&self.prefix))?;
        writeln!(
            f,
            "export CMDCTL_QUEUE_URL={}",
            shell_word(&self.queues.queue_url)
        )
    }
}

impl output::VerbReport for Made {}

/// `text`, single-quoted for a POSIX shell when it needs to be.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words() {
        assert_eq!(shell_word("events"), "events");
        assert_eq!(
            shell_word("http://127.0.0.1:5000/1/q"),
            "http://127.0.0.1:5000/1/q"
        );
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
