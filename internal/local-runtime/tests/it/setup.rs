//! What every test starts from: a store, the repository's configs, a clock
//! the test moves.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use config_dir::DirConfigSource;
use handler_core::state_machine::{AggregateState, Timestamp};
use handler_core::{AggregateKey, Batch, Clock, ConfigSource, EventStore, InboundMessage};
use local_runtime::LocalRuntime;
use serde_json::{Value, json};
use store_sqlite::SqliteStore;

/// The repository's `config/`.
pub(crate) fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// A clock that reads what the test set.
#[derive(Debug)]
pub(crate) struct TestClock(Mutex<Timestamp>);

impl TestClock {
    pub(crate) fn at(text: &str) -> Arc<Self> {
        Arc::new(Self(Mutex::new(text.parse().expect("an RFC 3339 time"))))
    }

    pub(crate) fn set(&self, text: &str) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            text.parse().expect("an RFC 3339 time");
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A store in its own directory, kept as long as the value.
pub(crate) struct World {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) store: Arc<SqliteStore>,
    pub(crate) clock: Arc<TestClock>,
}

impl World {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Arc::new(SqliteStore::open(dir.path().join("events.sqlite3")).expect("store"));
        Self {
            dir,
            store,
            clock: TestClock::at("2030-01-01T00:00:00Z"),
        }
    }

    /// A runtime over the store and `configs`.
    pub(crate) fn runtime_with(&self, configs: Arc<dyn ConfigSource>) -> LocalRuntime {
        LocalRuntime::new(self.store.clone(), configs, self.clock.clone())
    }

    /// A runtime over the store and `config/`.
    pub(crate) fn runtime(&self) -> LocalRuntime {
        self.runtime_with(Arc::new(DirConfigSource::new(config_dir())))
    }

    /// The state of `type#id`.
    pub(crate) async fn state(&self, aggregate_type: &str, id: &str) -> AggregateState {
        self.store
            .load(&AggregateKey::new(aggregate_type, id), &[])
            .await
            .expect("loaded")
            .head
            .unwrap_or_else(|| panic!("{aggregate_type}#{id} has no events"))
    }
}

/// A one-message batch of `command` to `type#id`.
pub(crate) fn command(aggregate_type: &str, id: &str, command: &str, payload: Value) -> Batch {
    let command_id = format!("{aggregate_type}-{id}-{command}");
    let body = json!({
        "commandId": command_id,
        "aggregateType": aggregate_type,
        "aggregateId": id,
        "command": command,
        "payload": payload,
    });
    Batch::standard(vec![InboundMessage::new(command_id, body.to_string())])
}
