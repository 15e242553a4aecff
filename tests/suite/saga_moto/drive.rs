//! The saga's real path on moto, driven until quiet: the worker polls the
//! command queue and the handler applies what it receives to the table;
//! the table's stream is read with GetRecords and every batch of records
//! is handed to the event processor's Lambda body TWICE (the second time
//! after the worker has applied what the first sent); the processor's SQS
//! sink puts the reactions (so each one twice) on the command queue.
//! One worker, one step at a time: moto's transactions are not isolated
//! from each other (see the soak's note).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use batch_handler::{Handler, HandlerOptions};
use config_s3::S3ConfigSource;
use event_processor::{CommandSink, DeliveryError, DerivedCommand};
use handler_core::AggregateKey;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use sqs_commands::sink::SqsCommandSink;
use sqs_worker::{Polled, Worker, WorkerOptions};
use store_dynamodb::DynamoStore;
use testkit::audit::Sent;
use testkit::progress::{Progress, Stalled};
use testkit::stream::StreamReader;

use crate::processor::harness::Rig;

/// The drive fails only after this long without a message received and
/// without a stream record read.
const QUIET: Duration = Duration::from_secs(120);
/// Records per processor invocation (Lambda's default batch size).
const STREAM_BATCH: usize = 100;
/// Times each stream batch is handed to the processor: once when read,
/// once more after the worker has drained the queue again.
pub(super) const HAND_OVERS: usize = 2;

/// The processor's SQS sink, noting the id of every reaction it accepted.
pub(super) struct Noting {
    inner: SqsCommandSink,
    pub(super) sent: Mutex<Vec<(String, AggregateKey)>>,
}

#[async_trait]
impl CommandSink for Noting {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        let answers = self.inner.send(commands).await;
        let mut sent = self.sent.lock().expect("lock");
        for (command, answer) in commands.iter().zip(&answers) {
            if answer.is_ok() {
                sent.push((
                    command.command_id.clone(),
                    AggregateKey::new(&command.aggregate_type, &command.aggregate_id),
                ));
            }
        }
        answers
    }
}

/// What the drive saw.
#[derive(Debug, Default)]
pub(super) struct Tally {
    /// Messages received by the worker (every copy).
    pub(super) received: u64,
    /// Messages whose command was applied (a new event).
    pub(super) applied: u64,
    /// Messages recognised as an already-applied command: duplicates absorbed.
    pub(super) duplicates: u64,
    /// Messages that failed, by code.
    pub(super) failed: BTreeMap<&'static str, u64>,
    /// Stream records read.
    pub(super) records: u64,
    /// Batches of stream records read.
    pub(super) batches: u64,
    /// Processor invocations (each batch of records twice).
    pub(super) invocations: u64,
    /// Answers naming a record the processor did not finish.
    pub(super) unfinished: u64,
    /// Per command id: its aggregate and the message ids it came as.
    pub(super) messages: HashMap<String, (AggregateKey, BTreeSet<String>)>,
}

impl Tally {
    fn add(&mut self, polled: &Polled) {
        self.received += polled.messages.len() as u64;
        for (message, outcome) in polled.messages.iter().zip(&polled.report.outcomes) {
            match &outcome.result {
                Ok(applied) if applied.duplicate => self.duplicates += 1,
                Ok(_) => self.applied += 1,
                Err(failure) => *self.failed.entry(failure.code()).or_default() += 1,
            }
            let body: Value = serde_json::from_str(&message.body).expect("a JSON command");
            let field = |name: &str| body[name].as_str().expect("a command field").to_owned();
            self.messages
                .entry(field("commandId"))
                .or_insert_with(|| {
                    (
                        AggregateKey::new(field("aggregateType"), field("aggregateId")),
                        BTreeSet::new(),
                    )
                })
                .1
                .insert(message.message_id.clone());
        }
    }

    /// Every command received, as the soak audit takes it.
    pub(super) fn sent(&self) -> Vec<Sent> {
        self.messages
            .iter()
            .map(|(id, (key, messages))| Sent {
                command_id: id.clone(),
                key: key.clone(),
                message_ids: messages.iter().cloned().collect(),
            })
            .collect()
    }
}

/// The rig's worker, processor and stream, driven together.
pub(super) struct Drive<'r> {
    rig: &'r mut Rig,
    worker: Worker<DynamoStore, S3ConfigSource>,
    pub(super) tally: Tally,
}

impl<'r> Drive<'r> {
    pub(super) fn new(rig: &'r mut Rig) -> Self {
        // One aggregate at a time: moto's transactions are not isolated from
        // each other (a concurrent one fails inside moto, or worse, erases
        // another's write when it is cancelled).
        let handler = Handler::new(rig.stack.store(), rig.stack.configs())
            .with_options(HandlerOptions {
                concurrency: 1,
                ..HandlerOptions::default()
            })
            .with_rejection_sink(std::sync::Arc::new(sqs_dead_letter_sink(rig)));
        let worker = Worker::new(rig.stack.sqs().clone(), &rig.commands, handler).with_options(
            WorkerOptions {
                wait_time_seconds: 0,
                ..WorkerOptions::default()
            },
        );
        Self {
            rig,
            worker,
            tally: Tally::default(),
        }
    }

    /// Runs until the queue is empty and the stream has nothing new, twice
    /// in a row; `Err` only after [`QUIET`] with no message received and no
    /// record read (the mark: messages received, records read). Returns the
    /// reactions the processor's sink accepted.
    pub(super) async fn until_quiet(
        &mut self,
    ) -> Result<Vec<(String, AggregateKey)>, Stalled<(u64, u64)>> {
        let processor = self.rig.processor_with_sink(
            self.rig.put_events(),
            Noting {
                inner: self.rig.command_sink(),
                sent: Mutex::new(Vec::new()),
            },
        );
        let mut progress = Progress::new(QUIET);
        let mut idle = 0;
        // Batches handed over once, to hand over again next round: their
        // reactions' second copies come after the first ones were applied.
        let mut again: Vec<Vec<Value>> = Vec::new();
        loop {
            let polled = self.worker.poll().await.expect("ReceiveMessage on moto");
            self.tally.add(&polled);
            if polled.messages.is_empty() {
                let records = self.rig.stream.read().await;
                self.tally.records += records.len() as u64;
                let first: Vec<Vec<Value>> = records
                    .chunks(STREAM_BATCH)
                    .map(<[Value]>::to_vec)
                    .collect();
                let quiet = first.is_empty() && again.is_empty();
                for batch in again.drain(..).chain(first.iter().cloned()) {
                    let answer = lambda_dynamodb_stream::handle_event(
                        &processor,
                        LambdaEvent::new(StreamReader::event(&batch), Context::default()),
                    )
                    .await;
                    self.tally.invocations += 1;
                    self.tally.unfinished += answer.batch_item_failures.len() as u64;
                }
                self.tally.batches += first.len() as u64;
                again = first;
                let (visible, in_flight) = self.rig.stack.depth(&self.rig.commands).await;
                if quiet && visible + in_flight == 0 {
                    idle += 1;
                    if idle == 2 {
                        let (_, _, sink, _) = processor.into_parts();
                        return Ok(sink.sent.into_inner().expect("lock"));
                    }
                } else {
                    idle = 0;
                }
                if quiet {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            progress.check((self.tally.received, self.tally.records))?;
        }
    }
}

/// The rejection sink the Lambda has: permanent rejections go to the DLQ
/// at once.
fn sqs_dead_letter_sink(rig: &Rig) -> sqs_dlq_sink::SqsDeadLetters {
    sqs_dlq_sink::SqsDeadLetters::new(
        rig.stack.sqs().clone(),
        &rig.dlq,
        std::sync::Arc::new(handler_core::SystemClock),
    )
}
