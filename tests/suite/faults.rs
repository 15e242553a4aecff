//! The handler when the store misbehaves: a writer that wins the race, a
//! store that fails. (Wrappers around the real embedded store, through
//! `testkit::faulty`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use async_trait::async_trait;
use batch_handler::Handler;
use config_dir::DirConfigSource;
use handler_core::state_machine::AggregateState;
use handler_core::{
    AggregateKey, AppendError, Batch, CommandRecord, Commit, CommitSizing, Event, EventStore,
    Footprint, InboundMessage, StoreError, StoreLimits, all_events,
};
use serde_json::json;
use store_sqlite::SqliteStore;
use testkit::faulty::{Faulty, StoreFaults};
use testkit::scenario::config_dir;

/// Lets another writer append one event just before the handler's first
/// append, as a concurrent Lambda would.
struct RaceOnce {
    inner: SqliteStore,
    raced: AtomicBool,
    /// After the first race: how many more appends a rival wins.
    more_races: AtomicU32,
    /// Appends the handler attempted.
    attempts: AtomicU32,
}

#[async_trait]
impl StoreFaults for RaceOnce {
    type Inner = SqliteStore;
    fn inner(&self) -> &SqliteStore {
        &self.inner
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let again = self
            .more_races
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !self.raced.swap(true, Ordering::SeqCst) || again {
            let mut rival = commit.clone();
            rival.events.truncate(1);
            rival.events[0].command_id = format!("rival-{}", commit.expected_version);
            rival.commands.truncate(1);
            rival.commands[0].command_id = format!("rival-{}", commit.expected_version);
            rival.commands[0].fingerprint = "rival".into();
            rival.data_after.truncate(1);
            let mut head = rival.head.clone();
            head.version = commit.expected_version + 1;
            rival.head = head;
            self.inner.append(&rival).await?;
        }
        self.inner.append(commit).await
    }
}

/// A store whose items hold less than the limits it reports, as a store whose
/// own rule differs from the handler's estimate would: the estimate lets every
/// command through, and the store refuses any commit holding a larger event.
struct SmallerItems {
    inner: SqliteStore,
    max_event_bytes: usize,
    /// Appends the handler attempted.
    attempts: AtomicU32,
}

#[async_trait]
impl StoreFaults for SmallerItems {
    type Inner = SqliteStore;
    fn inner(&self) -> &SqliteStore {
        &self.inner
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let too_large = commit
            .events
            .iter()
            .zip(&commit.commands)
            .zip(&commit.data_after)
            .any(|((e, r), data)| {
                dynamodb_layout::size::event_item_bytes(&commit.key, e, r, data)
                    > self.max_event_bytes
            });
        if too_large {
            return Err(AppendError::TooLarge(
                "Item size has exceeded the maximum allowed size".into(),
            ));
        }
        self.inner.append(commit).await
    }
}

/// A store that counts commits its own way, as a layout without a head item
/// would: each command one item, nothing once per commit, ten items a commit.
struct OwnCounting {
    inner: SqliteStore,
    /// Commands in each append the handler attempted.
    commits: std::sync::Mutex<Vec<usize>>,
}

impl CommitSizing for OwnCounting {
    fn limits(&self) -> StoreLimits {
        StoreLimits {
            max_items_per_commit: 10,
            ..self.inner.sizing().limits()
        }
    }
    fn command(
        &self,
        key: &AggregateKey,
        event: &Event,
        record: &CommandRecord,
        after: &AggregateState,
    ) -> Footprint {
        let dynamo = self.inner.sizing().command(key, event, record, after);
        Footprint { items: 1, ..dynamo }
    }
    fn commit(&self, _: &AggregateKey, _: u64, _: &AggregateState) -> Footprint {
        Footprint::default()
    }
}

#[async_trait]
impl StoreFaults for OwnCounting {
    type Inner = SqliteStore;
    fn inner(&self) -> &SqliteStore {
        &self.inner
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.commits.lock().unwrap().push(commit.events.len());
        self.inner.append(commit).await
    }
    fn sizing(&self) -> &dyn CommitSizing {
        self
    }
}

/// Fails every append for one aggregate type.
struct FailAppends {
    inner: SqliteStore,
    failing_type: &'static str,
}

#[async_trait]
impl StoreFaults for FailAppends {
    type Inner = SqliteStore;
    fn inner(&self) -> &SqliteStore {
        &self.inner
    }
    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        if commit.key.aggregate_type == self.failing_type {
            return Err(StoreError::unavailable("injected: throttled").into());
        }
        self.inner.append(commit).await
    }
}

fn comment(id: &str, text: &str) -> InboundMessage {
    InboundMessage::new(
        id,
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "Comment",
               "payload": {"text": text}})
        .to_string(),
    )
}

fn open_ticket(id: &str) -> InboundMessage {
    InboundMessage::new(
        id,
        json!({"aggregateType": "ticket", "aggregateId": "t-1", "command": "OpenTicket",
               "payload": {"title": "x"}})
        .to_string(),
    )
}

#[tokio::test]
async fn a_lost_race_is_retried_from_a_fresh_load() {
    let store = Arc::new(Faulty(RaceOnce {
        inner: SqliteStore::in_memory().unwrap(),
        raced: AtomicBool::new(true),
        more_races: AtomicU32::new(0),
        attempts: AtomicU32::new(0),
    }));
    let handler = Handler::new(store.clone(), DirConfigSource::new(config_dir()));
    handler
        .handle(Batch::standard(vec![open_ticket("open")]))
        .await;
    store.raced.store(false, Ordering::SeqCst);

    let report = handler
        .handle(Batch::standard(vec![
            comment("c1", "a"),
            comment("c2", "b"),
        ]))
        .await;
    assert!(report.failed_message_ids().is_empty(), "{report:#?}");
    let versions: Vec<u64> = report
        .outcomes
        .iter()
        .map(|o| o.result.as_ref().unwrap().version)
        .collect();
    assert_eq!(
        versions,
        vec![3, 4],
        "decided again after the rival's event"
    );
    let events = all_events(&store.inner, &AggregateKey::new("ticket", "t-1"))
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.command_id.as_str()).collect();
    assert_eq!(ids, vec!["open", "rival-1", "c1", "c2"]);
}

#[tokio::test]
async fn a_store_fault_fails_its_aggregate_only_and_transiently() {
    let store = Faulty(FailAppends {
        inner: SqliteStore::in_memory().unwrap(),
        failing_type: "ticket",
    });
    let handler = Handler::new(store, DirConfigSource::new(config_dir()));
    let report = handler
        .handle(Batch::standard(vec![
            open_ticket("t-open"),
            InboundMessage::new(
                "o-create",
                json!({"aggregateType": "order", "aggregateId": "o-1", "command": "CreateOrder",
                       "payload": {"itemId": "x", "quantity": 1}})
                .to_string(),
            ),
            comment("t-comment", "a"),
        ]))
        .await;
    assert_eq!(report.failed_message_ids(), vec!["t-open", "t-comment"]);
    for o in &report.outcomes[..1] {
        let failure = o.result.as_ref().unwrap_err();
        assert!(!failure.is_permanent());
        assert_eq!(failure.code(), "store_unavailable");
    }
    assert!(report.outcomes[1].result.is_ok());
}

#[tokio::test]
async fn a_race_lost_every_time_ends_as_a_transient_conflict_after_the_bounded_attempts() {
    let store = Arc::new(Faulty(RaceOnce {
        inner: SqliteStore::in_memory().unwrap(),
        raced: AtomicBool::new(true),
        more_races: AtomicU32::new(0),
        attempts: AtomicU32::new(0),
    }));
    let options = batch_handler::HandlerOptions {
        retry: batch_handler::RetryPolicy {
            max_attempts: 4,
            ..Default::default()
        },
        ..Default::default()
    };
    let handler =
        Handler::new(store.clone(), DirConfigSource::new(config_dir())).with_options(options);
    handler
        .handle(Batch::standard(vec![open_ticket("open")]))
        .await;
    store.more_races.store(100, Ordering::SeqCst);
    store.attempts.store(0, Ordering::SeqCst);

    let report = handler
        .handle(Batch::standard(vec![
            comment("c1", "a"),
            comment("c2", "b"),
        ]))
        .await;
    assert_eq!(report.failed_message_ids(), vec!["c1", "c2"]);
    for outcome in &report.outcomes {
        let failure = outcome.result.as_ref().unwrap_err();
        assert_eq!(failure.code(), "conflict");
        assert!(!failure.is_permanent());
    }
    assert_eq!(
        store.attempts.load(Ordering::SeqCst),
        4,
        "one append per attempt"
    );
    let events = all_events(&store.inner, &AggregateKey::new("ticket", "t-1"))
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .all(|e| e.command_id != "c1" && e.command_id != "c2"),
        "nothing of the failed messages was written"
    );
}

#[tokio::test]
async fn commits_are_planned_by_the_stores_own_counting() {
    let store = Arc::new(Faulty(OwnCounting {
        inner: SqliteStore::in_memory().unwrap(),
        commits: std::sync::Mutex::new(Vec::new()),
    }));
    let handler = Handler::new(store.clone(), DirConfigSource::new(config_dir()));
    let mut batch = vec![open_ticket("open")];
    batch.extend((1..25).map(|i| comment(&format!("c{i}"), "a")));
    let report = handler.handle(Batch::standard(batch)).await;
    assert!(report.failed_message_ids().is_empty(), "{report:#?}");
    // By DynamoDB's counting (2 items a command, 1 a commit) all 25 fit one
    // commit of 51 items; by this store's, ten commands a commit.
    assert_eq!(*store.commits.lock().unwrap(), vec![10, 10, 5]);
}

fn smaller_items() -> Arc<Faulty<SmallerItems>> {
    Arc::new(Faulty(SmallerItems {
        inner: SqliteStore::in_memory().unwrap(),
        max_event_bytes: 8 * 1024,
        attempts: AtomicU32::new(0),
    }))
}

#[tokio::test]
async fn a_store_side_too_large_refuses_only_the_command_that_cannot_fit() {
    let store = smaller_items();
    let handler = Handler::new(store.clone(), DirConfigSource::new(config_dir()));
    let big = "x".repeat(16 * 1024);
    let report = handler
        .handle(Batch::standard(vec![
            open_ticket("open"),
            comment("c1", "a"),
            comment("big", &big),
            comment("c3", "c"),
            comment("c4", "d"),
        ]))
        .await;
    assert_eq!(report.failed_message_ids(), vec!["big"], "{report:#?}");
    let failure = report.outcomes[2].result.as_ref().unwrap_err();
    assert_eq!(failure.code(), "too_large");
    assert!(failure.is_permanent());
    let versions: Vec<u64> = report
        .outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok().map(|a| a.version))
        .collect();
    assert_eq!(
        versions,
        vec![1, 2, 3, 4],
        "decided again without the offender"
    );
    let events = all_events(&store.inner, &AggregateKey::new("ticket", "t-1"))
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.command_id.as_str()).collect();
    assert_eq!(ids, vec!["open", "c1", "c3", "c4"]);
}

#[tokio::test]
async fn a_store_side_too_large_on_fifo_holds_back_the_rest_of_its_group() {
    let store = smaller_items();
    let handler = Handler::new(store.clone(), DirConfigSource::new(config_dir()));
    let big = "x".repeat(16 * 1024);
    let grouped = |m: InboundMessage| InboundMessage {
        message_group_id: Some("ticket#t-1".into()),
        ..m
    };
    let report = handler
        .handle(Batch {
            messages: vec![
                grouped(open_ticket("open")),
                grouped(comment("c1", "a")),
                grouped(comment("big", &big)),
                grouped(comment("c3", "c")),
            ],
            fifo: true,
            deadline: None,
        })
        .await;
    assert_eq!(
        report.failed_message_ids(),
        vec!["big", "c3"],
        "{report:#?}"
    );
    assert_eq!(
        report.outcomes[2].result.as_ref().unwrap_err().code(),
        "too_large"
    );
    assert_eq!(
        report.outcomes[3].result.as_ref().unwrap_err().code(),
        "held_back"
    );
    let events = all_events(&store.inner, &AggregateKey::new("ticket", "t-1"))
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.command_id.as_str()).collect();
    assert_eq!(ids, vec!["open", "c1"]);
}
