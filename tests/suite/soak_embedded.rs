//! The in-process soak: 10,000 commands over 200 tickets, each sent twice,
//! through four concurrent handlers pulling from a simulated at-least-once
//! queue, on the embedded store behind a wrapper that injects faults (load
//! and append failures, lost append responses, spurious conflicts, a real
//! rival writer). At the end the audit must find nothing lost, nothing
//! doubled, versions gapless and every head equal to the fold of its events.
//! `SOAK_SCALE=N` multiplies the tickets by `N`. Nothing in it waits on a
//! clock: the workers stop when the simulated queue is empty.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use batch_handler::{Handler, HandlerOptions, RetryPolicy};
use config_dir::DirConfigSource;
use handler_core::state_machine::StateMachine;
use handler_core::{
    AggregateKey, AppendError, Batch, CommandRecord, Commit, ConfigSource, Event, EventStore,
    FailureLog, InboundMessage, Loaded, StoreError, fingerprint, now_rfc3339,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use store_sqlite::SqliteStore;
use testkit::audit::{self, Sent, audit};
use testkit::faulty::{Faulty, StoreFaults};
use testkit::scenario::config_dir;

const SEED: u64 = 0x50a1_c0de;
/// Tickets per unit of `SOAK_SCALE`.
const TICKETS_PER_SCALE: usize = 200;
const COMMANDS_PER_TICKET: usize = 50;
/// Every this-many-th command is invalid (an empty comment): it must end in
/// the dead-letter queue with its reason recorded.
const BAD_EVERY: usize = 157;
const WORKERS: usize = 4;
const BATCH: usize = 10;
const MAX_RECEIVES: u32 = 10;

/// Probabilities of each injected fault, per call.
const P_LOAD_UNAVAILABLE: f64 = 0.02;
const P_APPEND_UNAVAILABLE: f64 = 0.02;
const P_LOST_RESPONSE: f64 = 0.03;
const P_SPURIOUS_CONFLICT: f64 = 0.02;
const P_RIVAL: f64 = 0.03;
/// Share of deletes of applied messages that are lost (the message comes back).
const P_LOST_DELETE: f64 = 0.05;

#[derive(Default)]
struct FaultCounts {
    load_unavailable: AtomicU64,
    append_unavailable: AtomicU64,
    lost_response: AtomicU64,
    spurious_conflict: AtomicU64,
    rival_write: AtomicU64,
    /// Conflicts the real store reported (rivals and the handlers' own races).
    store_conflict: AtomicU64,
}

impl FaultCounts {
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    fn summary(&self) -> String {
        format!(
            "load unavailable {}, append unavailable {}, lost append response {}, spurious conflict {}, rival write {} (store-reported conflicts {})",
            Self::get(&self.load_unavailable),
            Self::get(&self.append_unavailable),
            Self::get(&self.lost_response),
            Self::get(&self.spurious_conflict),
            Self::get(&self.rival_write),
            Self::get(&self.store_conflict),
        )
    }
}

/// The embedded store, with faults injected from a seeded RNG.
struct FaultyStore {
    inner: SqliteStore,
    rng: Mutex<StdRng>,
    ticket: Arc<StateMachine>,
    faults: FaultCounts,
    rival_seq: AtomicU64,
    /// The rivals' commands that were applied, for the audit.
    rivals: Mutex<Vec<Sent>>,
}

enum AppendFault {
    None,
    Unavailable,
    LostResponse,
    SpuriousConflict,
    Rival,
}

impl FaultyStore {
    fn draw(&self) -> f64 {
        self.rng.lock().unwrap().random()
    }

    fn append_fault(&self) -> AppendFault {
        let r = self.draw();
        let mut edge = P_APPEND_UNAVAILABLE;
        if r < edge {
            return AppendFault::Unavailable;
        }
        edge += P_LOST_RESPONSE;
        if r < edge {
            return AppendFault::LostResponse;
        }
        edge += P_SPURIOUS_CONFLICT;
        if r < edge {
            return AppendFault::SpuriousConflict;
        }
        edge += P_RIVAL;
        if r < edge {
            return AppendFault::Rival;
        }
        AppendFault::None
    }

    /// Another writer applies one legitimate `Comment` to the ticket through
    /// the inner store, as a concurrent Lambda would. True when it applied.
    async fn rival_comment(&self, key: &AggregateKey) -> bool {
        let Ok(Loaded {
            head: Some(head), ..
        }) = self.inner.load(key, &[]).await
        else {
            return false;
        };
        let n = self.rival_seq.fetch_add(1, Ordering::Relaxed);
        let command_id = format!("rival-{n}");
        let payload: Map<String, Value> = json!({"text": format!("rival comment {n}")})
            .as_object()
            .cloned()
            .unwrap();
        let Ok(decision) = self.ticket.decide(&head, "Comment", &payload) else {
            return false;
        };
        let mut next = head.clone();
        next.apply(&decision.to_state, &payload);
        let now = now_rfc3339();
        let commit = Commit {
            key: key.clone(),
            expected_version: head.version,
            events: vec![Event {
                version: next.version,
                event_type: decision.event_type,
                state: decision.to_state,
                payload: payload.clone(),
                command_id: command_id.clone(),
                metadata: Map::new(),
                recorded_at: now.clone(),
                config_version: self.ticket.version(),
            }],
            commands: vec![CommandRecord {
                command_id: command_id.clone(),
                key: key.clone(),
                fingerprint: fingerprint(key, "Comment", &payload),
                version: next.version,
                recorded_at: now,
            }],
            head: next,
        };
        if self.inner.append(&commit).await.is_err() {
            return false;
        }
        self.rivals.lock().unwrap().push(Sent {
            command_id,
            key: key.clone(),
            message_ids: vec![format!("rival-message-{n}")],
        });
        true
    }

    fn count_store_conflict<T>(&self, result: &Result<T, AppendError>) {
        if matches!(
            result,
            Err(AppendError::Conflict { .. } | AppendError::DuplicateCommand { .. })
        ) {
            self.faults.store_conflict.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[async_trait]
impl StoreFaults for FaultyStore {
    type Inner = SqliteStore;
    fn inner(&self) -> &SqliteStore {
        &self.inner
    }

    async fn load(&self, key: &AggregateKey, ids: &[String]) -> Result<Loaded, StoreError> {
        if self.draw() < P_LOAD_UNAVAILABLE {
            self.faults.load_unavailable.fetch_add(1, Ordering::Relaxed);
            return Err(StoreError::Unavailable("injected: load throttled".into()));
        }
        self.inner.load(key, ids).await
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        match self.append_fault() {
            AppendFault::None => {}
            AppendFault::Unavailable => {
                self.faults
                    .append_unavailable
                    .fetch_add(1, Ordering::Relaxed);
                return Err(StoreError::Unavailable("injected: append throttled".into()).into());
            }
            AppendFault::SpuriousConflict => {
                self.faults
                    .spurious_conflict
                    .fetch_add(1, Ordering::Relaxed);
                return Err(AppendError::Conflict {
                    key: commit.key.clone(),
                    expected: commit.expected_version,
                });
            }
            AppendFault::LostResponse => {
                let result = self.inner.append(commit).await;
                self.count_store_conflict(&result);
                if result.is_ok() {
                    // Written, but the handler hears of a failure.
                    self.faults.lost_response.fetch_add(1, Ordering::Relaxed);
                    return Err(StoreError::Unavailable("injected: response lost".into()).into());
                }
                return result;
            }
            AppendFault::Rival => {
                if self.rival_comment(&commit.key).await {
                    self.faults.rival_write.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        let result = self.inner.append(commit).await;
        self.count_store_conflict(&result);
        result
    }
}

/// A message in the simulated queue.
struct Queued {
    id: String,
    body: String,
    receives: u32,
}

/// A standard SQS queue, at least once: received messages are in flight
/// until deleted or returned; after `MAX_RECEIVES` receives a returned
/// message goes to the dead-letter queue.
#[derive(Default)]
struct Queue {
    visible: VecDeque<Queued>,
    in_flight: usize,
    dead_letters: Vec<String>,
}

#[derive(Default)]
struct Stats {
    receives: AtomicU64,
    batches: AtomicU64,
    applied: AtomicU64,
    duplicates: AtomicU64,
    lost_deletes: AtomicU64,
    failures: Mutex<HashMap<&'static str, u64>>,
}

async fn worker(
    n: usize,
    store: Arc<Faulty<FaultyStore>>,
    queue: Arc<Mutex<Queue>>,
    stats: Arc<Stats>,
) {
    let options = HandlerOptions {
        retry: RetryPolicy {
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(8),
            ..RetryPolicy::default()
        },
        ..HandlerOptions::default()
    };
    let handler = Handler::new(store, DirConfigSource::new(config_dir())).with_options(options);
    let mut rng = StdRng::seed_from_u64(SEED + 1 + n as u64);
    loop {
        let received: Vec<Queued> = {
            let mut q = queue.lock().unwrap();
            if q.visible.is_empty() && q.in_flight == 0 {
                return;
            }
            let take = q.visible.len().min(BATCH);
            q.in_flight += take;
            q.visible.drain(..take).collect()
        };
        if received.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let received: Vec<Queued> = received
            .into_iter()
            .map(|m| Queued {
                receives: m.receives + 1,
                ..m
            })
            .collect();
        stats
            .receives
            .fetch_add(received.len() as u64, Ordering::Relaxed);
        stats.batches.fetch_add(1, Ordering::Relaxed);
        let batch = Batch::standard(
            received
                .iter()
                .map(|m| InboundMessage {
                    receive_count: Some(m.receives),
                    ..InboundMessage::new(m.id.clone(), m.body.clone())
                })
                .collect(),
        );
        let report = handler.handle(batch).await;
        assert_eq!(report.outcomes.len(), received.len());

        let mut back = Vec::new();
        for (message, outcome) in received.into_iter().zip(&report.outcomes) {
            assert_eq!(message.id, outcome.message_id);
            match &outcome.result {
                Ok(applied) => {
                    stats.applied.fetch_add(1, Ordering::Relaxed);
                    if applied.duplicate {
                        stats.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                    if rng.random::<f64>() < P_LOST_DELETE {
                        stats.lost_deletes.fetch_add(1, Ordering::Relaxed);
                        back.push(message);
                    }
                }
                Err(failure) => {
                    *stats
                        .failures
                        .lock()
                        .unwrap()
                        .entry(failure.code())
                        .or_default() += 1;
                    back.push(message);
                }
            }
        }
        let mut q = queue.lock().unwrap();
        q.in_flight -= report.outcomes.len();
        for message in back {
            if message.receives >= MAX_RECEIVES {
                q.dead_letters.push(message.id);
            } else {
                q.visible.push_back(message);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_embedded_store_with_faults() {
    let started = Instant::now();
    let configs = DirConfigSource::new(config_dir());
    let ticket = configs
        .state_machine("ticket")
        .await
        .expect("ticket config");
    let store = Arc::new(Faulty(FaultyStore {
        inner: SqliteStore::in_memory().expect("in-memory SQLite"),
        rng: Mutex::new(StdRng::seed_from_u64(SEED)),
        ticket: ticket.clone(),
        faults: FaultCounts::default(),
        rival_seq: AtomicU64::new(0),
        rivals: Mutex::new(Vec::new()),
    }));

    let tickets = TICKETS_PER_SCALE * audit::scale();
    // The workload: per ticket one OpenTicket, then comments and assignments;
    // every command twice (two message ids, one commandId), all shuffled.
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut sent = Vec::new();
    let mut bad = Vec::new();
    let mut messages = Vec::new();
    for t in 0..tickets {
        let ticket_id = format!("t-{t:03}");
        for c in 0..COMMANDS_PER_TICKET {
            let i = sent.len();
            let (name, payload) = if c == 0 {
                ("OpenTicket", json!({"title": format!("ticket {t}")}))
            } else if i % BAD_EVERY == BAD_EVERY - 1 {
                ("Comment", json!({"text": ""}))
            } else if rng.random::<f64>() < 0.6 {
                ("Comment", json!({"text": format!("comment {i}")}))
            } else {
                ("Assign", json!({"assignee": format!("agent-{}", i % 17)}))
            };
            let command_id = format!("cmd-{i:05}");
            let body = json!({
                "commandId": command_id,
                "aggregateType": "ticket",
                "aggregateId": ticket_id,
                "command": name,
                "payload": payload,
                "metadata": {"soak": true},
            })
            .to_string();
            let ids = vec![format!("m-{i:05}-a"), format!("m-{i:05}-b")];
            for id in &ids {
                messages.push(Queued {
                    id: id.clone(),
                    body: body.clone(),
                    receives: 0,
                });
            }
            if payload["text"] == "" {
                bad.push(ids.clone());
            }
            sent.push(Sent {
                command_id,
                key: AggregateKey::new("ticket", ticket_id.clone()),
                message_ids: ids,
            });
        }
    }
    messages.shuffle(&mut rng);
    let message_count = messages.len();
    let queue = Arc::new(Mutex::new(Queue {
        visible: messages.into(),
        ..Queue::default()
    }));
    let stats = Arc::new(Stats::default());

    let workers: Vec<_> = (0..WORKERS)
        .map(|n| tokio::spawn(worker(n, store.clone(), queue.clone(), stats.clone())))
        .collect();
    for w in workers {
        w.await.expect("a worker panicked");
    }
    let handled = started.elapsed();

    let dead_letters: HashSet<String> =
        queue.lock().unwrap().dead_letters.iter().cloned().collect();
    let rivals = store.rivals.lock().unwrap().clone();
    let workload = sent.len();
    sent.extend(rivals.iter().cloned());
    let machines = HashMap::from([("ticket".to_owned(), ticket)]);
    let report = audit(&store.inner, &machines, &sent, &dead_letters).await;
    let elapsed = started.elapsed();

    let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let mut failures: Vec<_> = stats.failures.lock().unwrap().clone().into_iter().collect();
    failures.sort();
    let line = format!(
        "in-process soak (embedded store, {WORKERS} concurrent handlers): {workload} commands + {} rival commands \
         over {tickets} tickets, {message_count} messages, {} receives in {} batches; \
         {} applied outcomes of which {} duplicates, {} lost deletes; faults: {}; \
         {} messages dead-lettered; audit: {}; {:.1} s",
        rivals.len(),
        get(&stats.receives),
        get(&stats.batches),
        get(&stats.applied),
        get(&stats.duplicates),
        get(&stats.lost_deletes),
        store.faults.summary(),
        dead_letters.len(),
        report.summary(),
        elapsed.as_secs_f64(),
    );
    eprintln!("{line}");
    eprintln!("failure outcomes by code: {failures:?}");
    eprintln!(
        "handling took {:.1} s, the audit {:.1} s",
        handled.as_secs_f64(),
        (elapsed - handled).as_secs_f64()
    );
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    if std::fs::create_dir_all(&target).is_ok() {
        let _ = std::fs::write(target.join("soak-embedded.txt"), format!("{line}\n"));
    }

    assert_eq!(report.lost, 0, "lost commands: {line}");
    assert_eq!(report.doubled, 0, "doubled commands: {line}");
    assert_eq!(
        report.applied + report.dead_lettered,
        report.commands,
        "{line}"
    );
    assert!(report.commands >= 10_000 * audit::scale());
    // Exactly the invalid commands ended in the dead-letter queue, each
    // message with its reason recorded.
    assert_eq!(report.dead_lettered, bad.len(), "{line}");
    for ids in &bad {
        for id in ids {
            assert!(dead_letters.contains(id), "{id} not dead-lettered");
            let stored = store
                .inner
                .failure(id)
                .await
                .unwrap()
                .expect("a recorded reason");
            // The last receive was refused for the schema, unless a store
            // fault (or an earlier message's) came first that time.
            assert!(
                stored.last.code == "schema_violation" || !stored.last.permanent,
                "{id}: {:?}",
                stored.last
            );
            assert_eq!(stored.failures, u64::from(MAX_RECEIVES), "{id}");
        }
    }
    // Every path was exercised.
    assert!(get(&stats.duplicates) > 0, "no duplicate was seen");
    let f = &store.faults;
    for (name, count) in [
        ("load unavailable", &f.load_unavailable),
        ("append unavailable", &f.append_unavailable),
        ("lost append response", &f.lost_response),
        ("spurious conflict", &f.spurious_conflict),
        ("rival write", &f.rival_write),
    ] {
        assert!(get(count) > 0, "the fault `{name}` never fired");
    }
}
