//! The store behind the soak's handlers: the embedded store wrapped to
//! inject faults, with counts of what it injected.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use handler_core::state_machine::StateMachine;
use handler_core::{
    AggregateKey, AppendError, Clock, CommandRecord, Commit, Event, EventStore, Loaded, StoreError,
    SystemClock, fingerprint, rfc3339_millis,
};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use store_sqlite::SqliteStore;
use testkit::audit::Sent;
use testkit::faulty::StoreFaults;

/// Probabilities of each injected fault, per call.
pub(super) const P_LOAD_UNAVAILABLE: f64 = 0.02;
pub(super) const P_APPEND_UNAVAILABLE: f64 = 0.02;
pub(super) const P_LOST_RESPONSE: f64 = 0.03;
pub(super) const P_SPURIOUS_CONFLICT: f64 = 0.02;
pub(super) const P_RIVAL: f64 = 0.03;

#[derive(Default)]
pub(super) struct FaultCounts {
    pub(super) load_unavailable: AtomicU64,
    pub(super) append_unavailable: AtomicU64,
    pub(super) lost_response: AtomicU64,
    pub(super) spurious_conflict: AtomicU64,
    pub(super) rival_write: AtomicU64,
    /// Conflicts the real store reported (rivals and the handlers' own races).
    pub(super) store_conflict: AtomicU64,
}

impl FaultCounts {
    fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    pub(super) fn summary(&self) -> String {
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
pub(super) struct FaultyStore {
    pub(super) inner: SqliteStore,
    pub(super) rng: Mutex<StdRng>,
    pub(super) ticket: Arc<StateMachine>,
    pub(super) faults: FaultCounts,
    pub(super) rival_seq: AtomicU64,
    /// The rivals' commands that were applied, for the audit.
    pub(super) rivals: Mutex<Vec<Sent>>,
}

pub(super) enum AppendFault {
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
        let now = rfc3339_millis(SystemClock.now());
        let commit = Commit {
            key: key.clone(),
            expected_version: head.version,
            events: vec![Event {
                alarms: None,
                version: next.version,
                event_type: decision.event_type,
                state: decision.to_state,
                payload: payload.clone(),
                command_id: command_id.clone(),
                metadata: Map::new(),
                recorded_at: now,
                config_version: self.ticket.version(),
            }],
            commands: vec![CommandRecord {
                command_id: command_id.clone(),
                key: key.clone(),
                fingerprint: fingerprint(key, "Comment", &payload),
                version: next.version,
            }],
            data_after: vec![next.data.clone()],
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
        if matches!(result, Err(AppendError::Conflict { .. })) {
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
            return Err(StoreError::unavailable("injected: load throttled"));
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
                return Err(StoreError::unavailable("injected: append throttled").into());
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
                    return Err(StoreError::unavailable("injected: response lost").into());
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
