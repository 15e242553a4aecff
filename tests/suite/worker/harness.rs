//! The worker tests' harness: the stack, order commands, and readers of
//! the raw event items.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use serde_json::Value;
use sqs_worker::Worker;
use store_dynamodb::DynamoStore;
use testkit::aws::AwsStack;
use testkit::scenario::create_order;

/// A test's AWS resources and clients: the shared [`AwsStack`] (queues,
/// depth, send) plus the worker-specific helpers below.
pub(super) struct Aws {
    pub(super) stack: AwsStack,
    pub(super) sqs: aws_sdk_sqs::Client,
    pub(super) dynamo: aws_sdk_dynamodb::Client,
    pub(super) table: String,
}

impl std::ops::Deref for Aws {
    type Target = AwsStack;

    fn deref(&self) -> &AwsStack {
        &self.stack
    }
}

impl Aws {
    /// A fresh table and a bucket holding the repository's configs.
    pub(super) async fn new() -> Self {
        let stack = AwsStack::new().await;
        Aws {
            sqs: stack.sqs().clone(),
            dynamo: stack.dynamo().clone(),
            table: stack.table.clone(),
            stack,
        }
    }

    /// The production handler over this test's table and bucket.
    pub(super) fn handler(&self) -> Handler<DynamoStore, S3ConfigSource> {
        self.stack.handler()
    }

    /// A worker on `queue_url`, receiving with `wait` seconds of long polling.
    pub(super) fn worker(&self, queue_url: &str, wait: i32) -> Worker<DynamoStore, S3ConfigSource> {
        Worker::new(self.sqs.clone(), queue_url, self.handler()).with_wait_time_seconds(wait)
    }

    /// The raw event items of an aggregate (`sk >= 1`), in version order.
    pub(super) async fn event_items(&self, pk: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.dynamo
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk >= :first")
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .expression_attribute_values(":first", AttributeValue::N("1".to_owned()))
            .consistent_read(true)
            .send()
            .await
            .expect("Query")
            .items()
            .to_vec()
    }

    /// The event types of an aggregate, in version order.
    pub(super) async fn event_types(&self, pk: &str) -> Vec<String> {
        self.event_items(pk)
            .await
            .iter()
            .map(|item| s(item, "eventType").to_owned())
            .collect()
    }
}

pub(super) use testkit::scenario::order_command as command;

pub(super) fn create(aggregate_id: &str) -> Value {
    create_order(aggregate_id, 2)
}

pub(super) fn s<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(text)) => text,
        other => panic!("{name} is not an S attribute: {other:?}"),
    }
}

pub(super) fn n(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(number)) => number.parse().expect("an integer N"),
        other => panic!("{name} is not an N attribute: {other:?}"),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as RFC 3339 has it.
pub(super) fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    };
    if b.len() < 20
        || !(digits(0..4) && digits(5..7) && digits(8..10))
        || !(digits(11..13) && digits(14..16) && digits(17..19))
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return false;
        }
        rest = &fraction[len..];
    }
    matches!(rest, "Z" | "z")
        || (rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':')
}
