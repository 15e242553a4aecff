//! The in-process soak: 10,000 commands over 200 tickets, each sent twice,
//! through four concurrent handlers pulling from a simulated at-least-once
//! queue, on the embedded store behind a wrapper that injects faults (load
//! and append failures, lost append responses, spurious conflicts, a real
//! rival writer). At the end the audit must find nothing lost, nothing
//! doubled, versions gapless and every head equal to the fold of its events.
//! `SOAK_SCALE=N` multiplies the tickets by `N`. Nothing in it waits on a
//! clock: the workers stop when the simulated queue is empty.

mod faulty_store;
mod queue;

use faulty_store::{FaultCounts, FaultyStore};
use queue::{Queue, Queued, Stats, worker};

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use config_dir::DirConfigSource;
use handler_core::{AggregateKey, ConfigSource, FailureLog};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use store_sqlite::SqliteStore;
use testkit::audit::{self, Sent, audit};
use testkit::faulty::Faulty;
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
    audit::write_figures("soak-embedded.txt", &line);

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
