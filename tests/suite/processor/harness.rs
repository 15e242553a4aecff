//! One test's rig for the event processor on moto: the stack (table with
//! its stream, bucket with the repository's configs and the processor
//! fixtures `parcel` and `depot`), a command queue, an EventBridge bus
//! whose rule delivers `command-handler.*` events to a queue, the stream read from
//! its start, and counting clients for what the processor sends.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use config_s3::S3ConfigSource;
use event_processor::{CommandSink, EventProcessor, Publisher};
use eventbridge_publisher::{
    Entry, EntryRefused, EventBridgePublisher, PutEventsApi, SdkPutEvents,
};
use handler_core::{AggregateKey, ConfigSource, Event, EventStore, FailureLog, SystemClock};
use lambda_dynamodb_stream::DynamoDbEventResponse;
use lambda_runtime::{Context, LambdaEvent};
use lambda_sqs::SqsBatchResponse;
use serde_json::{Value, json};
use sqs_commands::sink::SqsCommandSink;
use store_dynamodb::DynamoStore;
use testkit::aws::{AwsStack, PREFIX};
use testkit::requests::RequestCounter;
use testkit::stream::StreamReader;

/// The processor on this rig, over some `PutEvents`.
pub(crate) type Processor<A> =
    EventProcessor<S3ConfigSource, EventBridgePublisher<A>, SqsCommandSink, DynamoStore>;

pub(crate) struct Rig {
    pub(crate) stack: AwsStack,
    /// The command queue reactions go to.
    pub(crate) commands: String,
    /// The command queue's dead-letter queue.
    pub(crate) dlq: String,
    /// The rig's own EventBridge bus.
    pub(crate) bus: String,
    /// The queue the bus's rule delivers published events to.
    pub(crate) published: String,
    pub(crate) stream: StreamReader,
    /// EventBridge requests of [`Rig::put_events`]' client.
    pub(crate) events_requests: RequestCounter,
    /// SQS requests of the processor's sink.
    pub(crate) sink_requests: RequestCounter,
}

impl Rig {
    pub(crate) async fn new() -> Self {
        let stack = AwsStack::new().await;
        for name in ["parcel", "depot"] {
            let bytes = std::fs::read(testkit::fixtures::path(&format!("processor/{name}.json")))
                .expect("processor fixture");
            config_s3::upload_config(stack.s3(), &stack.bucket, PREFIX, &bytes, Some(name))
                .await
                .expect("upload a processor fixture");
        }
        let (commands, dlq) = stack.queues(30, false).await;
        let (bus, published) = testkit::bus::bus_to_queue(&stack.sdk, "command-handler.").await;
        let stream = StreamReader::open(&stack.sdk, &stack.table).await;
        Self {
            stack,
            commands,
            dlq,
            bus,
            published,
            stream,
            events_requests: RequestCounter::default(),
            sink_requests: RequestCounter::default(),
        }
    }

    /// `PutEvents` on the rig's bus, through a counting client.
    pub(crate) fn put_events(&self) -> SdkPutEvents {
        let client = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::config::Builder::from(&self.stack.sdk)
                .interceptor(self.events_requests.clone())
                .build(),
        );
        SdkPutEvents::new(client, &self.bus)
    }

    /// The processor the Lambda runs, on this rig's resources, over `api`.
    pub(crate) fn processor<A: PutEventsApi>(&self, api: A) -> Processor<A> {
        self.processor_with_sink(api, self.command_sink())
    }

    /// The processor's SQS sink to the command queue (counting client).
    pub(crate) fn command_sink(&self) -> SqsCommandSink {
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::config::Builder::from(&self.stack.sdk)
                .interceptor(self.sink_requests.clone())
                .build(),
        );
        SqsCommandSink::new(sqs, &self.commands)
    }

    /// The processor on this rig's resources, over `api`, sending its
    /// reactions through `sink` (e.g. a wrapper of [`Rig::command_sink`]).
    pub(crate) fn processor_with_sink<A: PutEventsApi, K: CommandSink>(
        &self,
        api: A,
        sink: K,
    ) -> EventProcessor<S3ConfigSource, EventBridgePublisher<A>, K, DynamoStore> {
        let publisher = EventBridgePublisher::new(api).with_resend(eventbridge_publisher::Resend {
            attempts: 3,
            first_pause: std::time::Duration::ZERO,
        });
        EventProcessor::new(
            self.stack.configs(),
            publisher,
            sink,
            self.stack.store(),
            Arc::new(SystemClock),
        )
    }

    /// The handler applies these command bodies as one Lambda batch.
    pub(crate) async fn apply(&self, bodies: &[Value]) -> SqsBatchResponse {
        self.apply_at(bodies, None).await
    }

    /// [`apply`](Self::apply) with the handler's clock set to `now` (a
    /// fired alarm's command delivered by hand comes when it is due).
    pub(crate) async fn apply_at(
        &self,
        bodies: &[Value],
        now: Option<handler_core::state_machine::Timestamp>,
    ) -> SqsBatchResponse {
        let event = sqs_event(bodies);
        let mut handler = self.stack.handler();
        if let Some(now) = now {
            handler = handler.with_clock(std::sync::Arc::new(handler_core::ShiftedClock::to(now)));
        }
        lambda_sqs::handle_event(&handler, LambdaEvent::new(event, Context::default())).await
    }

    /// Every message on the command queue now, its body parsed, deleted.
    pub(crate) async fn queued_commands(&self) -> Vec<Value> {
        testkit::bus::drain(&self.stack.sdk, &self.commands).await
    }

    /// Every event published so far (EventBridge envelopes), deleted.
    pub(crate) async fn published(&self) -> Vec<Value> {
        testkit::bus::drain(&self.stack.sdk, &self.published).await
    }

    /// The events of an aggregate, from the table.
    pub(crate) async fn events(&self, aggregate_type: &str, id: &str) -> Vec<Event> {
        self.stack
            .store()
            .events(&AggregateKey::new(aggregate_type, id), 0, 1000)
            .await
            .expect("events")
    }
}

/// A command body.
/// The Lambda's answer to one stream batch of these records.
pub(crate) async fn stream_answer<C, P, S, F>(
    processor: &EventProcessor<C, P, S, F>,
    records: &[Value],
) -> DynamoDbEventResponse
where
    C: ConfigSource,
    P: Publisher,
    S: CommandSink,
    F: FailureLog,
{
    lambda_dynamodb_stream::handle_event(
        processor,
        LambdaEvent::new(StreamReader::event(records), Context::default()),
    )
    .await
}

/// The sequence numbers a stream answer names (the first unfinished record).
pub(crate) fn unfinished(answer: &DynamoDbEventResponse) -> Vec<Option<String>> {
    answer
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// These command bodies as the SQS event of one Lambda batch (message ids
/// derived from the command ids).
pub(crate) fn sqs_event(bodies: &[Value]) -> lambda_sqs::SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            json!({"messageId": format!("m-{i}-{}", body["commandId"].as_str().unwrap_or("")),
                   "body": body.to_string(),
                   "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:commands"})
        })
        .collect();
    lambda_sqs::parse_event(&json!({ "Records": records }).to_string()).expect("an SQS event")
}

pub(crate) fn command(aggregate_type: &str, id: &str, command: &str, payload: Value) -> Value {
    json!({"commandId": format!("{aggregate_type}-{id}-{command}"), "aggregateType": aggregate_type,
           "aggregateId": id, "command": command, "payload": payload})
}

/// `PutEvents` through `inner`, refusing (without sending) the entries the
/// rule picks: `refuse(detail, call)` with the call's number from 0.
pub(crate) struct Refusing<F> {
    pub(crate) inner: SdkPutEvents,
    pub(crate) refuse: F,
    pub(crate) calls: Mutex<usize>,
    /// The details of every entry refused.
    pub(crate) refused: Mutex<Vec<String>>,
}

impl<F: Fn(&str, usize) -> bool + Send + Sync> Refusing<F> {
    pub(crate) fn new(inner: SdkPutEvents, refuse: F) -> Self {
        Self {
            inner,
            refuse,
            calls: Mutex::new(0),
            refused: Mutex::new(Vec::new()),
        }
    }
}

#[async_trait]
impl<F: Fn(&str, usize) -> bool + Send + Sync> PutEventsApi for Refusing<F> {
    async fn put_events(
        &self,
        entries: &[Entry<'_>],
    ) -> Result<Vec<Result<(), EntryRefused>>, eventbridge_publisher::PutEventsError> {
        let call = {
            let mut calls = self.calls.lock().expect("lock");
            *calls += 1;
            *calls - 1
        };
        let refuse: Vec<bool> = entries
            .iter()
            .map(|e| (self.refuse)(e.detail, call))
            .collect();
        let sent: Vec<Entry<'_>> = entries
            .iter()
            .zip(&refuse)
            .filter(|(_, r)| !**r)
            .map(|(e, _)| *e)
            .collect();
        let mut answers = if sent.is_empty() {
            Vec::new()
        } else {
            self.inner.put_events(&sent).await?
        }
        .into_iter();
        Ok(entries
            .iter()
            .zip(refuse)
            .map(|(entry, refused)| {
                if refused {
                    self.refused
                        .lock()
                        .expect("lock")
                        .push(entry.detail.to_owned());
                    Err(EntryRefused {
                        code: "InternalFailure".into(),
                        message: "refused by the test".into(),
                    })
                } else {
                    answers.next().expect("one answer per entry sent")
                }
            })
            .collect())
    }
}
