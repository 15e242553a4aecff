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

mod workers;
mod workload;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use handler_core::state_machine::StateMachine;
use store_dynamodb::DynamoStore;
use testkit::audit::{self, audit};
use testkit::aws::AwsStack;
use testkit::fault_proxy::{FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};

use workers::{Tally, wait_until_drained, work, worker};
use workload::send_workload;

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
/// The drain fails only after this long with no message handled by a
/// worker and none deleted or moved off the source queue. Each of those
/// can happen only finitely often (a message is received at most
/// ten times: the redrive policy of
/// [`AwsStack::queues`]), so a drain that keeps moving ends.
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
    let (queue_url, dlq_url) = stack.queues(VISIBILITY_TIMEOUT_SECONDS, false).await;
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
    let sent = send_workload(stack.sqs(), &queue_url, aggregates).await;
    let sent_in = sending.elapsed();
    let drained = wait_until_drained(&stack, &queue_url, &handled).await;
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

    let dead_letters = dead_letter_ids(&stack, &dlq_url).await;
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
    let store = DynamoStore::new(
        stack.dynamo().clone(),
        &table,
        std::sync::Arc::new(handler_core::SystemClock),
    );
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
    audit::write_figures("soak-moto.txt", &line);

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

/// The event-store table of docs/reference.md §3 (keys and indexes) without
/// its stream, made directly on moto. moto's `TransactWriteItems` deep-copies
/// the table on every call, stream records included, which would double the
/// cost of each append; no consumer follows the stream in this test.
async fn create_table_without_stream(dynamo: &aws_sdk_dynamodb::Client) -> String {
    let table = unique_name("soak-events");
    store_dynamodb::table_definition(dynamo, &table)
        .expect("table definition")
        .send()
        .await
        .expect("create table");
    table
}

/// The message ids in the DLQ (received directly from moto, and kept
/// invisible while they are read).
async fn dead_letter_ids(stack: &AwsStack, dlq_url: &str) -> HashSet<String> {
    let (expected, _) = stack.depth(dlq_url).await;
    let mut ids = HashSet::new();
    loop {
        let output = stack
            .sqs()
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
