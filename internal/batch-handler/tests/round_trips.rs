//! Round trips per batch, counted without a clock: every store call parks
//! at a gate, and the test opens the gate once all the calls the handler can
//! make at that point are parked. Each opening is one round trip: calls
//! issued together share it, a call that waits for another's answer needs
//! the next one. The goal (issue 10): at most 3 per batch whatever its size,
//! one read, then the writes issued together.

// The benches' shared fixtures (ticket config in memory, command bodies).
#[path = "../benches/common/mod.rs"]
mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use batch_handler::Handler;
use handler_core::{
    AggregateKey, AppendError, Batch, Commit, CommitSizing, Event, EventStore, FailureLog,
    FailureRecord, InboundMessage, Loaded, StoreError, StoredFailure,
};
use store_sqlite::SqliteStore;
use tokio::sync::oneshot;

use common::{messages, ticket_machine};
use test_doubles::MemoryConfigs;

/// The embedded store behind a gate: each call waits until the test opens it.
struct Gated {
    inner: SqliteStore,
    parked: Mutex<Vec<oneshot::Sender<()>>>,
}

impl Gated {
    async fn wait(&self) {
        let (open, opened) = oneshot::channel();
        self.parked.lock().expect("gate").push(open);
        opened.await.expect("the test keeps the gate");
    }

    fn parked(&self) -> usize {
        self.parked.lock().expect("gate").len()
    }

    fn open(&self) {
        for open in self.parked.lock().expect("gate").drain(..) {
            let _ = open.send(());
        }
    }
}

#[async_trait]
impl EventStore for Gated {
    async fn load(&self, key: &AggregateKey, command_ids: &[String]) -> Result<Loaded, StoreError> {
        self.wait().await;
        self.inner.load(key, command_ids).await
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.wait().await;
        self.inner.append(commit).await
    }
    async fn events(
        &self,
        key: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.wait().await;
        self.inner.events(key, after_version, limit).await
    }
    fn sizing(&self) -> &dyn CommitSizing {
        self.inner.sizing()
    }
}

#[async_trait]
impl FailureLog for Gated {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        self.wait().await;
        self.inner.record_failures(failures).await
    }
    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        self.wait().await;
        self.inner.failure(message_id).await
    }
}

/// Polls are repeated this many times without a new parked call before the
/// handler counts as waiting on the store alone (a poll may stop early to
/// let others run, so one quiet poll is not enough).
const QUIET_POLLS: usize = 64;

/// Handles `batch` and returns how many round trips it took.
fn round_trips(handler: &Handler<Arc<Gated>, MemoryConfigs>, batch: Vec<InboundMessage>) -> usize {
    let gate = handler.store().clone();
    let expected = batch.len();
    let mut work = pin!(handler.handle(Batch::standard(batch)));
    let mut cx = Context::from_waker(Waker::noop());
    let mut rounds = 0;
    let mut quiet = 0;
    let mut parked = 0;
    loop {
        if let Poll::Ready(report) = work.as_mut().poll(&mut cx) {
            assert_eq!(report.applied(), expected, "every command applies");
            return rounds;
        }
        let now = gate.parked();
        if now == parked {
            quiet += 1;
        } else {
            parked = now;
            quiet = 0;
        }
        if quiet >= QUIET_POLLS {
            assert!(
                parked > 0,
                "the handler waits on something other than the store"
            );
            gate.open();
            rounds += 1;
            parked = 0;
            quiet = 0;
        }
    }
}

fn handler() -> Handler<Arc<Gated>, MemoryConfigs> {
    let store = Gated {
        inner: SqliteStore::in_memory().expect("in-memory SQLite"),
        parked: Mutex::default(),
    };
    Handler::new(Arc::new(store), MemoryConfigs::one(ticket_machine()))
}

/// The handler needs tokio's context (its timers) even when nothing waits.
fn in_tokio<T>(f: impl FnOnce() -> T) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _context = runtime.enter();
    f()
}

#[test]
fn one_command_is_one_read_then_one_write() {
    in_tokio(|| assert_eq!(round_trips(&handler(), messages(1, 1, 0, 1)), 2));
}

#[test]
fn a_batch_of_ten_over_ten_aggregates_reads_together_then_writes_together() {
    in_tokio(|| assert_eq!(round_trips(&handler(), messages(1, 10, 0, 1)), 2));
}

#[test]
fn a_batch_of_ten_on_one_aggregate_is_one_read_then_one_commit() {
    in_tokio(|| assert_eq!(round_trips(&handler(), messages(1, 1, 0, 10)), 2));
}

#[test]
fn a_batch_of_a_hundred_over_a_hundred_aggregates_takes_no_more_round_trips() {
    // With the lanes bounded at 16 at once this took 14 (7 waves of a read
    // and a write).
    in_tokio(|| assert_eq!(round_trips(&handler(), messages(1, 100, 0, 1)), 2));
}

#[test]
fn one_at_a_time_ten_commands_take_twenty_round_trips() {
    in_tokio(|| {
        let handler = handler();
        let total: usize = messages(1, 10, 0, 1)
            .into_iter()
            .map(|m| round_trips(&handler, vec![m]))
            .sum();
        assert_eq!(total, 20);
    });
}
