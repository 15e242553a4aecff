//! `cmdctl setup`: creates, idempotently, the AWS resources the handler
//! needs, for emulators and dev accounts: the event-store table (through
//! `store-dynamodb`, so it has the stream and TTL of docs/reference.md §3), the config
//! bucket, and the command queue with its dead-letter queue (redrive after
//! 10 receives, docs/reference.md §5). Production stacks come from infrastructure as
//! code; this is its quick stand-in.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_sqs::types::QueueAttributeName;
use serde::{Serialize, Serializer};
use serde_json::json;

use crate::Exit;
use crate::aws_error;
use crate::cli::SetupArgs;
use crate::context::Context;
use crate::output;

/// Receives before SQS moves a failing message to the dead-letter queue.
pub(crate) const MAX_RECEIVE_COUNT: u32 = 10;
/// How long the dead-letter queue keeps a message: 14 days, SQS's longest.
pub(crate) const DLQ_RETENTION_SECONDS: u32 = 1_209_600;

/// The queues' names: `NAME` and `NAME-dlq`, each with `.fifo` for FIFO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueueNames {
    pub(crate) queue: String,
    pub(crate) dlq: String,
    pub(crate) fifo: bool,
}

impl QueueNames {
    /// From `--queue` and `--fifo`; a name already ending in `.fifo` makes
    /// the queues FIFO too.
    pub(crate) fn new(name: &str, fifo: bool) -> Self {
        let base = name.strip_suffix(".fifo");
        let fifo = fifo || base.is_some();
        let base = base.unwrap_or(name);
        let suffix = if fifo { ".fifo" } else { "" };
        Self {
            queue: format!("{base}{suffix}"),
            dlq: format!("{base}-dlq{suffix}"),
            fifo,
        }
    }
}

/// The URLs of the queues made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Queues {
    pub(crate) queue_url: String,
    pub(crate) dlq_url: String,
}

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
        create_bucket(&s3, &args.bucket, region.as_deref()).await?;
        create_queues(&sqs, &names, args.visibility_timeout).await
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

/// Creates the bucket unless this account has it already.
pub(crate) async fn create_bucket(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    region: Option<&str>,
) -> anyhow::Result<()> {
    let mut create = s3.create_bucket().bucket(bucket);
    // us-east-1 is the default location and must not be named.
    if let Some(region) = region.filter(|r| *r != "us-east-1") {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            Ok(())
        }
        Err(e) => {
            Err(aws_error::error(&e)).with_context(|| format!("cannot create bucket {bucket}"))
        }
    }
}

/// Creates (or brings up to date) the dead-letter queue, then the queue
/// redriving to it after [`MAX_RECEIVE_COUNT`] receives.
pub(crate) async fn create_queues(
    sqs: &aws_sdk_sqs::Client,
    names: &QueueNames,
    visibility_timeout: u32,
) -> anyhow::Result<Queues> {
    let dlq_url = ensure_queue(
        sqs,
        &names.dlq,
        names.fifo,
        vec![(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECONDS.to_string(),
        )],
    )
    .await?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| aws_error::error(&e))
        .with_context(|| format!("cannot read the ARN of {dlq_url}"))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .with_context(|| format!("SQS gave no ARN for {dlq_url}"))?;
    let redrive = json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    });
    let queue_url = ensure_queue(
        sqs,
        &names.queue,
        names.fifo,
        vec![
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
            (
                QueueAttributeName::VisibilityTimeout,
                visibility_timeout.to_string(),
            ),
        ],
    )
    .await?;
    Ok(Queues { queue_url, dlq_url })
}

/// Creates the queue; when one of that name exists with other attributes,
/// sets them on it instead. Returns its URL.
async fn ensure_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    fifo: bool,
    attributes: Vec<(QueueAttributeName, String)>,
) -> anyhow::Result<String> {
    let mut create = sqs.create_queue().queue_name(name);
    if fifo {
        create = create.attributes(QueueAttributeName::FifoQueue, "true");
    }
    for (key, value) in &attributes {
        create = create.attributes(key.clone(), value);
    }
    let exists = match create.send().await {
        Ok(created) => {
            return created
                .queue_url()
                .map(str::to_owned)
                .with_context(|| format!("SQS gave no URL for queue {name}"));
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            e
        }
        Err(e) => {
            return Err(aws_error::error(&e))
                .with_context(|| format!("cannot create queue {name}"));
        }
    };
    let reason = aws_error::describe(&exists);
    tracing::info!(queue = name, %reason, "queue exists; updating its attributes");
    let url = sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| aws_error::error(&e))
        .with_context(|| format!("cannot find queue {name}"))?
        .queue_url()
        .map(str::to_owned)
        .with_context(|| format!("SQS gave no URL for queue {name}"))?;
    let mut set = sqs.set_queue_attributes().queue_url(&url);
    for (key, value) in attributes {
        set = set.attributes(key, value);
    }
    set.send()
        .await
        .map_err(|e| aws_error::error(&e))
        .with_context(|| format!("cannot update queue {name}"))?;
    Ok(url)
}

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
    fn queue_names() {
        assert_eq!(
            QueueNames::new("commands", false),
            QueueNames {
                queue: "commands".into(),
                dlq: "commands-dlq".into(),
                fifo: false
            }
        );
        assert_eq!(
            QueueNames::new("commands", true),
            QueueNames {
                queue: "commands.fifo".into(),
                dlq: "commands-dlq.fifo".into(),
                fifo: true
            }
        );
        assert_eq!(
            QueueNames::new("commands.fifo", false),
            QueueNames::new("commands", true)
        );
    }

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
