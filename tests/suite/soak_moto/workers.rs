//! The soak's workers, each with its own clients through the proxy, what
//! they saw, and the wait for the queue to drain.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use aws_config::SdkConfig;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
use sqs_worker::{Polled, Worker, WorkerOptions};
use store_dynamodb::DynamoStore;
use testkit::aws::{AwsStack, PREFIX};
use testkit::progress::{Progress, Stalled};

use super::QUIET;

/// What the workers saw.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    pub(super) received: u64,
    pub(super) applied: u64,
    pub(super) duplicates: u64,
    pub(super) failed: BTreeMap<&'static str, u64>,
    pub(super) delete_failed: u64,
    pub(super) receive_errors: u64,
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

pub(super) type SoakWorker = Worker<DynamoStore, S3ConfigSource>;

/// A worker with its own clients, all through the proxy.
pub(super) fn worker(
    via_proxy: &SdkConfig,
    table: &str,
    bucket: &str,
    queue_url: &str,
) -> SoakWorker {
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(via_proxy),
        table,
        std::sync::Arc::new(handler_core::SystemClock),
    );
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
pub(super) async fn work(
    worker: SoakWorker,
    stop: Arc<AtomicBool>,
    handled: Arc<AtomicU64>,
) -> Tally {
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

/// Waits until the source queue is empty (no visible, no in-flight message)
/// on three checks in a row, however long that takes while it progresses:
/// `Err` only after [`QUIET`] in which the workers handled no message and
/// the queue lost none (the mark is: messages handled, messages left). `Ok`
/// with the longest stretch without progress seen.
pub(super) async fn wait_until_drained(
    stack: &AwsStack,
    queue_url: &str,
    handled: &AtomicU64,
) -> Result<Duration, Stalled<(u64, u64)>> {
    let mut progress = Progress::new(QUIET);
    let mut empty_in_a_row = 0;
    loop {
        let (visible, in_flight) = stack.depth(queue_url).await;
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
