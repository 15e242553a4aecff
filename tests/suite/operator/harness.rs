//! The operator tests' harness: a stack with a queue and its DLQ, the
//! workers that feed the DLQ, and order commands.

use std::sync::Arc;

use config_s3::S3ConfigSource;
use handler_core::{AggregateKey, all_events};
use serde_json::{Value, json};
use sqs_dead_letter::peek::{self, PeekOptions};
use sqs_dead_letter::queues;
use sqs_dlq_sink::SqsDeadLetters;
use sqs_worker::Worker;
use store_dynamodb::DynamoStore;
use testkit::aws::AwsStack;
use testkit::scenario::create_order;

/// A stack, a queue and its DLQ.
pub(super) struct Ops {
    pub(super) aws: AwsStack,
    pub(super) queue: String,
    pub(super) dlq: String,
}

pub(super) type AppWorker = Worker<DynamoStore, S3ConfigSource>;

impl Ops {
    pub(super) async fn new(visibility_timeout: u32, fifo: bool) -> Self {
        let aws = AwsStack::new().await;
        let (queue, dlq) = aws.queues(visibility_timeout, fifo).await;
        Ops { aws, queue, dlq }
    }

    pub(super) fn sqs(&self) -> aws_sdk_sqs::Client {
        self.aws.sqs().clone()
    }

    /// The worker as the Lambda runs it: failures come back.
    pub(super) fn worker(&self) -> AppWorker {
        Worker::new(self.sqs(), &self.queue, self.aws.handler()).with_wait_time_seconds(0)
    }

    /// The worker with `--reject-to-dlq`: permanent rejections go to the
    /// DLQ at once.
    pub(super) fn rejecting_worker(&self) -> AppWorker {
        let handler = self
            .aws
            .handler()
            .with_rejection_sink(Arc::new(SqsDeadLetters::new(
                self.sqs(),
                &self.dlq,
                std::sync::Arc::new(handler_core::SystemClock),
            )));
        Worker::new(self.sqs(), &self.queue, handler).with_wait_time_seconds(0)
    }

    /// Sends a body; on FIFO the group is the aggregate. Returns the
    /// message id.
    pub(super) async fn send(&self, body: &Value) -> String {
        let group = queues::is_fifo(&self.queue).then(|| {
            format!(
                "{}#{}",
                body["aggregateType"].as_str().unwrap(),
                body["aggregateId"].as_str().unwrap()
            )
        });
        self.aws.send(&self.queue, body, group.as_deref()).await
    }

    pub(super) async fn drain(&self, worker: &AppWorker) -> sqs_worker::PollStats {
        worker.run_until_empty().await.expect("the worker runs")
    }

    pub(super) async fn event_types(&self, aggregate_id: &str) -> Vec<String> {
        all_events(&self.aws.store(), &AggregateKey::new("order", aggregate_id))
            .await
            .expect("events")
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    }

    pub(super) async fn peek(&self) -> Vec<sqs_dead_letter::DeadLetter> {
        peek::peek(self.aws.sqs(), &self.dlq, &PeekOptions::default(), &())
            .await
            .expect("peek")
    }
}

pub(super) use testkit::scenario::order_command as command;

pub(super) fn create(aggregate_id: &str) -> Value {
    create_order(aggregate_id, 1)
}

/// What makes a refused `ConfirmOrder` of a created order valid: reserve
/// and pay first.
pub(super) fn fix(aggregate_id: &str) -> [Value; 2] {
    [
        command(aggregate_id, "ReserveItem", json!({})),
        command(
            aggregate_id,
            "ProcessPayment",
            json!({ "amount": 12.5, "currency": "EUR" }),
        ),
    ]
}
