//! The simulated at-least-once queue and the workers that drain it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use batch_handler::{Handler, HandlerOptions, RetryPolicy};
use config_dir::DirConfigSource;
use handler_core::{Batch, InboundMessage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use testkit::faulty::Faulty;
use testkit::scenario::config_dir;

use super::faulty_store::FaultyStore;
use super::{BATCH, MAX_RECEIVES, SEED};

/// Share of deletes of applied messages that are lost (the message comes back).
const P_LOST_DELETE: f64 = 0.05;

/// A message in the simulated queue.
pub(super) struct Queued {
    pub(super) id: String,
    pub(super) body: String,
    pub(super) receives: u32,
}

/// A standard SQS queue, at least once: received messages are in flight
/// until deleted or returned; after `MAX_RECEIVES` receives a returned
/// message goes to the dead-letter queue.
#[derive(Default)]
pub(super) struct Queue {
    pub(super) visible: VecDeque<Queued>,
    pub(super) in_flight: usize,
    pub(super) dead_letters: Vec<String>,
}

#[derive(Default)]
pub(super) struct Stats {
    pub(super) receives: AtomicU64,
    pub(super) batches: AtomicU64,
    pub(super) applied: AtomicU64,
    pub(super) duplicates: AtomicU64,
    pub(super) lost_deletes: AtomicU64,
    pub(super) failures: Mutex<HashMap<&'static str, u64>>,
}

pub(super) async fn worker(
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
