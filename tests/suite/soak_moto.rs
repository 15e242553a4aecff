//! The soak against moto: at-least-once, unordered delivery to concurrent
//! workers, every message sent twice, and a network that fails (500s,
//! throttling, delays, connections dropped after the request took effect)
//! between the SDK and the emulator. At the end nothing is lost or doubled.
//!
//! The producer talks to moto directly, so what was sent is exactly known;
//! the workers talk to it through a [`FaultProxy`]. The figures of a run are
//! printed and written as one line to `target/soak-moto.txt`.
//!
//! The default size (16 tickets) passes comfortably on a busy 2-core
//! machine; `SOAK_SCALE=N` multiplies the tickets by `N`. No wait has a
//! total time cap: the drain fails only after [`QUIET`] without a single
//! message handled or leaving the queue, so a slow machine only takes
//! longer.
//!
//! Two allowances for moto 5.2.1, neither of which AWS needs: the proxy
//! forwards DynamoDB requests one at a time, because moto's
//! `TransactWriteItems` is not isolated from concurrent requests (a cancelled
//! transaction restores a snapshot of the table taken before it started,
//! erasing what others wrote meanwhile: seen here as a missing event
//! version); and the table has no stream, because moto copies the whole
//! table, stream records included, on every transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use futures::StreamExt;
use handler_core::AggregateKey;
use handler_core::state_machine::StateMachine;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqs_worker::{Polled, Worker, WorkerOptions};
use store_dynamodb::DynamoStore;
use testkit::audit::{self, Sent, audit};
use testkit::aws::{AwsStack, PREFIX};
use testkit::fault_proxy::{FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};
use testkit::progress::{Progress, Stalled};

/// Tickets per unit of `SOAK_SCALE`.
const AGGREGATES_PER_SCALE: usize = 16;
/// One `OpenTicket`, then `Comment`/`Assign` alternately.
const COMMANDS_PER_AGGREGATE: usize = 16;
/// Every this-many-th aggregate gets one more command, a `Comment` whose
/// empty text its schema refuses: it must end in the DLQ with its reason
/// recorded.
const POISON_EVERY: usize = 4;
const COPIES: usize = 2;
const WORKERS: usize = 4;
const VISIBILITY_TIMEOUT_SECONDS: u32 = 2;
const MAX_RECEIVE_COUNT: u32 = 10;
/// The drain fails only after this long with no message handled by a
/// worker and none deleted or moved off the source queue. Each of those
/// can happen only finitely often (a message is received at most
/// `MAX_RECEIVE_COUNT` times), so a drain that keeps moving ends.
const QUIET: Duration = Duration::from_secs(120);
const SEED: u64 = 0x5eed_2024;

fn soak_plan() -> FaultPlan {
    FaultPlan {
        seed: SEED,
        error_500: 0.05,
        throttle: 0.05,
        delay: 0.10,
        max_delay: Duration::from_millis(200),
        drop_after_forward: 0.03,
        max_faults: None,
        // moto's transactions are not atomic under concurrent requests.
        serialize_dynamodb: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_against_moto_with_faults() {
    let started = Instant::now();
    let aggregates = AGGREGATES_PER_SCALE * audit::scale();
    let poisoned = aggregates.div_ceil(POISON_EVERY);
    let stack = AwsStack::new().await;
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let (queue_url, dlq_url) = create_queues(&sqs).await;
    let table = create_table_without_stream(stack.dynamo()).await;
    let proxy = FaultProxy::start(moto().endpoint(), soak_plan()).await;
    let via_proxy = stack
        .sdk
        .to_builder()
        .endpoint_url(proxy.endpoint())
        .build();

    let stop = Arc::new(AtomicBool::new(false));
    let handled = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let worker = worker(&via_proxy, &table, &stack.bucket, &queue_url);
            tokio::spawn(work(worker, stop.clone(), handled.clone()))
        })
        .collect();

    let sending = Instant::now();
    let sent = send_workload(&sqs, &queue_url, aggregates).await;
    let sent_in = sending.elapsed();
    let drained = wait_until_drained(&sqs, &queue_url, &handled).await;
    stop.store(true, Ordering::SeqCst);
    let mut tally = Tally::default();
    for worker in workers {
        tally += worker.await.expect("worker task");
    }
    for (operation, times) in proxy.times() {
        eprintln!(
            "soak_moto: {operation}: {} forwarded, {:.1?} upstream (slowest {:.1?}), {:.1?} queued",
            times.count, times.upstream, times.slowest, times.queued
        );
    }
    let longest_quiet = match drained {
        Ok(longest_quiet) => longest_quiet,
        Err(stalled) => panic!(
            "the source queue stopped draining: {stalled} \
             (handled by the workers, messages left in the queue); \
             proxy: {:?}; workers: {tally:?}",
            proxy.stats()
        ),
    };
    let drain_time = sending.elapsed();

    let dead_letters = dead_letter_ids(&sqs, &dlq_url).await;
    eprintln!(
        "soak_moto: drained in {drain_time:.1?}; {} in the DLQ; workers: {tally:?}; proxy: {:?}",
        dead_letters.len(),
        proxy.stats()
    );
    let machines = HashMap::from([(
        "ticket".to_owned(),
        Arc::new(
            StateMachine::from_json(
                &std::fs::read(testkit::scenario::config_dir().join("ticket.json"))
                    .expect("config/ticket.json"),
            )
            .expect("ticket config valid"),
        ),
    )]);
    let store = DynamoStore::new(stack.dynamo().clone(), &table);
    let report = audit(&store, &machines, &sent, &dead_letters).await;
    let faults = proxy.stats();
    let line = format!(
        "soak_moto: {workers} workers; {summary}; {dlq} messages in the DLQ; \
         workers saw {received} deliveries, {duplicates} duplicates, {failed} failures {codes:?}, \
         {receive_errors} failed receives, {delete_failed} failed deletes; \
         proxy: {requests} requests, {e500} x 500, {throttled} throttled, {delayed} delayed, \
         {dropped} dropped after forwarding; sent in {sent_in:.1?}, drained in {drain_time:.1?} \
         (longest stretch without progress {longest_quiet:.1?}), test {elapsed:.1?} \
         ({tickets} tickets, {variable}={scale})",
        workers = WORKERS,
        tickets = aggregates,
        variable = audit::SCALE_VARIABLE,
        scale = audit::scale(),
        summary = report.summary(),
        dlq = dead_letters.len(),
        received = tally.received,
        duplicates = tally.duplicates,
        failed = tally.failed.values().sum::<u64>(),
        codes = tally.failed,
        receive_errors = tally.receive_errors,
        delete_failed = tally.delete_failed,
        requests = faults.requests,
        e500 = faults.error_500,
        throttled = faults.throttled,
        delayed = faults.delayed,
        dropped = faults.dropped,
        elapsed = started.elapsed(),
    );
    eprintln!("{line}");
    write_figures(&line);

    assert_eq!(
        report.commands,
        aggregates * COMMANDS_PER_AGGREGATE + poisoned
    );
    assert_eq!(report.dead_lettered, poisoned, "{}", report.summary());
    assert_eq!(report.messages, report.commands * COPIES);
    assert_eq!(report.lost, 0, "lost commands: {}", report.summary());
    assert_eq!(report.doubled, 0, "doubled commands: {}", report.summary());
    assert_eq!(
        report.applied + report.dead_lettered,
        report.commands,
        "{}",
        report.summary()
    );
    assert_eq!(report.events, report.applied, "{}", report.summary());
    for (kind, count) in [
        ("500", faults.error_500),
        ("throttled", faults.throttled),
        ("delayed", faults.delayed),
        ("dropped", faults.dropped),
    ] {
        assert!(
            count > 0,
            "the proxy injected no `{kind}` fault: {faults:?}"
        );
    }
    assert!(
        tally.duplicates > 0,
        "the workers never saw a duplicate: {tally:?}"
    );
}

/// What the workers saw.
#[derive(Debug, Clone, Default)]
struct Tally {
    received: u64,
    applied: u64,
    duplicates: u64,
    failed: BTreeMap<&'static str, u64>,
    delete_failed: u64,
    receive_errors: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Self) {
        self.received += other.received;
        self.applied += other.applied;
        self.duplicates += other.duplicates;
        for (code, n) in other.failed {
            *self.failed.entry(code).or_default() += n;
        }
        self.delete_failed += other.delete_failed;
        self.receive_errors += other.receive_errors;
    }
}

impl Tally {
    fn add(&mut self, polled: &Polled) {
        self.received += polled.messages.len() as u64;
        self.delete_failed += polled.delete_failures.len() as u64;
        for outcome in &polled.report.outcomes {
            match &outcome.result {
                Ok(applied) if applied.duplicate => self.duplicates += 1,
                Ok(_) => self.applied += 1,
                Err(failure) => *self.failed.entry(failure.code()).or_default() += 1,
            }
        }
    }
}

type SoakWorker = Worker<DynamoStore, S3ConfigSource>;

/// A worker with its own clients, all through the proxy.
fn worker(via_proxy: &SdkConfig, table: &str, bucket: &str, queue_url: &str) -> SoakWorker {
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(via_proxy), table);
    let configs = S3ConfigSource::new(aws_sdk_s3::Client::new(via_proxy), bucket, PREFIX);
    Worker::new(
        aws_sdk_sqs::Client::new(via_proxy),
        queue_url,
        Handler::new(store, configs),
    )
    .with_options(WorkerOptions {
        wait_time_seconds: 1,
        ..WorkerOptions::default()
    })
}

/// Polls until told to stop, adding each message handled to `handled`; a
/// failed receive is counted and followed by a short pause.
async fn work(worker: SoakWorker, stop: Arc<AtomicBool>, handled: Arc<AtomicU64>) -> Tally {
    let mut tally = Tally::default();
    while !stop.load(Ordering::SeqCst) {
        match worker.poll().await {
            Ok(polled) => {
                handled.fetch_add(polled.report.outcomes.len() as u64, Ordering::SeqCst);
                tally.add(&polled);
            }
            Err(_) => {
                tally.receive_errors += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    tally
}

/// The event-store table of docs/reference.md §3 (`pk` S, `sk` N) without its
/// stream, made directly on moto. moto's `TransactWriteItems` deep-copies the
/// table on every call, stream records included (three per command here),
/// which would double the cost of each append; no consumer follows the
/// stream in this test.
async fn create_table_without_stream(dynamo: &aws_sdk_dynamodb::Client) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = unique_name("soak-events");
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .expect("attribute definition")
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key schema element")
    };
    dynamo
        .create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    table
}

/// The source queue (visibility timeout 2 s, redrive to the DLQ after 10
/// receives) and its DLQ, made directly on moto. Returns their URLs.
async fn create_queues(sqs: &aws_sdk_sqs::Client) -> (String, String) {
    let name = unique_name("soak");
    let dlq = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .expect("create DLQ")
        .queue_url()
        .expect("DLQ URL")
        .to_owned();
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("DLQ ARN")
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .expect("DLQ has an ARN");
    let redrive =
        json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT }).to_string();
    let queue = sqs
        .create_queue()
        .queue_name(&name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_TIMEOUT_SECONDS.to_string(),
        )
        .send()
        .await
        .expect("create queue")
        .queue_url()
        .expect("queue URL")
        .to_owned();
    (queue, dlq)
}

/// The commands of the soak: per aggregate an `OpenTicket`, then `Comment`
/// and `Assign` alternately, each with its own command id; and the poisoned
/// aggregates' last command, refused by its schema.
fn workload(run: &str, aggregates: usize) -> Vec<Vec<(String, Value)>> {
    (0..aggregates)
        .map(|a| {
            let id = format!("t-{a:02}");
            let poisoned = a % POISON_EVERY == 0;
            (0..COMMANDS_PER_AGGREGATE + usize::from(poisoned))
                .map(|n| {
                    let (command, payload) = match n {
                        0 => ("OpenTicket", json!({ "title": format!("ticket {a}") })),
                        COMMANDS_PER_AGGREGATE => ("Comment", json!({ "text": "" })),
                        n if n % 2 == 1 => ("Comment", json!({ "text": format!("comment {n}") })),
                        n => ("Assign", json!({ "assignee": format!("agent-{n}") })),
                    };
                    let command_id = format!("{run}-{id}-{n:02}");
                    let body = json!({
                        "commandId": command_id,
                        "aggregateType": "ticket",
                        "aggregateId": id,
                        "command": command,
                        "payload": payload,
                        "metadata": { "soak": run },
                    });
                    (command_id, body)
                })
                .collect()
        })
        .collect()
}

/// Sends every command twice, as separate `SendMessage` calls, directly to
/// moto. First copies go round by round (each aggregate's `OpenTicket`
/// before its later commands, aggregates in a shuffled order per round);
/// second copies are shuffled and mixed into the first ones at random; the
/// poisoned commands go, both copies, right after the `OpenTicket`s.
/// Returns what was sent, per command.
async fn send_workload(sqs: &aws_sdk_sqs::Client, queue_url: &str, aggregates: usize) -> Vec<Sent> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let commands = workload(&unique_name("soak"), aggregates);
    // Early, so that the poisoned commands' ten receives overlap the run.
    let mut firsts = Vec::new();
    let mut poison = Vec::new();
    for round in 0..=COMMANDS_PER_AGGREGATE {
        let mut order: Vec<usize> = (0..aggregates)
            .filter(|&a| commands[a].len() > round)
            .collect();
        order.shuffle(&mut rng);
        let slots = order.into_iter().map(|a| (a, round));
        if round == COMMANDS_PER_AGGREGATE {
            poison.extend(slots.flat_map(|slot| [slot; COPIES]));
        } else {
            firsts.extend(slots);
        }
    }
    let mut order: Vec<(usize, usize)> = firsts.drain(..aggregates).collect();
    order.append(&mut poison);
    let mut seconds = [order[..aggregates].to_vec(), firsts.clone()].concat();
    seconds.shuffle(&mut rng);
    let (mut firsts, mut seconds) = (firsts.into_iter(), seconds.into_iter());
    loop {
        let next = if rng.random_bool(0.5) {
            firsts.next().or_else(|| seconds.next())
        } else {
            seconds.next().or_else(|| firsts.next())
        };
        match next {
            Some(slot) => order.push(slot),
            None => break,
        }
    }
    assert_eq!(
        order.len(),
        commands.iter().map(Vec::len).sum::<usize>() * COPIES
    );

    // A few sends in flight at once (moto answers slowly while the workers
    // keep it busy); the order is kept up to those few.
    let sends = order.iter().map(|&(a, n)| {
        let body = commands[a][n].1.to_string();
        async move {
            let id = sqs
                .send_message()
                .queue_url(queue_url)
                .message_body(body)
                .send()
                .await
                .expect("SendMessage to moto")
                .message_id()
                .expect("a message id")
                .to_owned();
            ((a, n), id)
        }
    });
    let sent: Vec<_> = futures::stream::iter(sends).buffered(4).collect().await;
    let mut message_ids: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    for (slot, id) in sent {
        message_ids.entry(slot).or_default().push(id);
    }
    commands
        .iter()
        .enumerate()
        .flat_map(|(a, per_aggregate)| {
            let message_ids = &mut message_ids;
            per_aggregate
                .iter()
                .enumerate()
                .map(move |(n, (command_id, body))| Sent {
                    command_id: command_id.clone(),
                    key: AggregateKey::new(
                        "ticket",
                        body["aggregateId"].as_str().expect("aggregateId"),
                    ),
                    message_ids: message_ids.remove(&(a, n)).unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (visible, in flight) messages of a queue, asked of moto directly.
async fn depth(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> (u64, u64) {
    let output = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes");
    let count = |name: QueueAttributeName| {
        output
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{queue_url}: no {name}"))
    };
    (
        count(QueueAttributeName::ApproximateNumberOfMessages),
        count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Waits until the source queue is empty (no visible, no in-flight message)
/// on three checks in a row, however long that takes while it progresses:
/// `Err` only after [`QUIET`] in which the workers handled no message and
/// the queue lost none (the mark is: messages handled, messages left). `Ok`
/// with the longest stretch without progress seen.
async fn wait_until_drained(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    handled: &AtomicU64,
) -> Result<Duration, Stalled<(u64, u64)>> {
    let mut progress = Progress::new(QUIET);
    let mut empty_in_a_row = 0;
    loop {
        let (visible, in_flight) = depth(sqs, queue_url).await;
        if (visible, in_flight) == (0, 0) {
            empty_in_a_row += 1;
            if empty_in_a_row == 3 {
                return Ok(progress.longest_quiet());
            }
        } else {
            empty_in_a_row = 0;
        }
        progress.check((handled.load(Ordering::SeqCst), visible + in_flight))?;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The message ids in the DLQ (received directly from moto, and kept
/// invisible while they are read).
async fn dead_letter_ids(sqs: &aws_sdk_sqs::Client, dlq_url: &str) -> HashSet<String> {
    let (expected, _) = depth(sqs, dlq_url).await;
    let mut ids = HashSet::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(600)
            .wait_time_seconds(0)
            .send()
            .await
            .expect("ReceiveMessage on the DLQ");
        if output.messages().is_empty() {
            break;
        }
        ids.extend(
            output
                .messages()
                .iter()
                .filter_map(|m| m.message_id().map(str::to_owned)),
        );
    }
    assert_eq!(
        ids.len() as u64,
        expected,
        "every DLQ message read back ({expected} counted)"
    );
    ids
}

/// Writes the figures' line to `target/soak-moto.txt` for the README.
fn write_figures(line: &str) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    let path = target.join("soak-moto.txt");
    if let Err(e) = std::fs::write(&path, format!("{line}\n")) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
