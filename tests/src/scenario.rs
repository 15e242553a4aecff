//! Given/when/then for the batch handler, on the embedded store and the
//! repository's `config/`:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use serde_json::json;
//! use testkit::scenario::{Scenario, command};
//!
//! Scenario::new()
//!     .given_commands(vec![command("order", "o-1", "CreateOrder", json!({"itemId": "beans", "quantity": 1}))])
//!     .await
//!     .when(vec![command("order", "o-1", "ReserveItem", json!({})).id("m-2")])
//!     .await
//!     .then_failed(&[])
//!     .then_events("order", "o-1", &["OrderCreated", "ItemReserved"])
//!     .await;
//! # });
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use batch_handler::Handler;
use config_dir::DirConfigSource;
use handler_core::{
    AggregateKey, Applied, Batch, BatchReport, EventStore, Failure, InboundMessage, all_events,
};
use serde_json::{Value, json};
use store_sqlite::SqliteStore;

/// The repository's `config/` directory.
pub fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config")
}

/// The handler the scenarios run: embedded store, repository configs.
pub type TestHandler = Handler<Arc<SqliteStore>, DirConfigSource>;

/// A message to put in a batch.
#[derive(Debug, Clone)]
pub struct Message {
    /// The SQS message id.
    pub id: String,
    /// The body.
    pub body: String,
    /// FIFO group, if any.
    pub group: Option<String>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A command message (docs/reference.md §1) with a generated message id and no
/// `commandId` (so the message id stands in).
pub fn command(aggregate_type: &str, aggregate_id: &str, command: &str, payload: Value) -> Message {
    raw(json!({
        "aggregateType": aggregate_type,
        "aggregateId": aggregate_id,
        "command": command,
        "payload": payload,
    })
    .to_string())
}

/// A command body (docs/reference.md §1) as JSON, with a fresh `commandId`, for
/// tests that put commands on a real queue.
pub fn command_body(
    aggregate_type: &str,
    aggregate_id: &str,
    command: &str,
    payload: Value,
) -> Value {
    json!({
        "commandId": format!("cmd-{}-{}", std::process::id(), NEXT_ID.fetch_add(1, Ordering::Relaxed)),
        "aggregateType": aggregate_type,
        "aggregateId": aggregate_id,
        "command": command,
        "payload": payload,
    })
}

/// An `order` command body (see [`command_body`]).
pub fn order_command(aggregate_id: &str, command: &str, payload: Value) -> Value {
    command_body("order", aggregate_id, command, payload)
}

/// A `CreateOrder` body of `quantity` beans (see [`command_body`]).
pub fn create_order(aggregate_id: &str, quantity: u64) -> Value {
    order_command(
        aggregate_id,
        "CreateOrder",
        json!({ "itemId": "beans", "quantity": quantity }),
    )
}

/// A message with any body.
pub fn raw(body: impl Into<String>) -> Message {
    Message {
        id: format!("msg-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed)),
        body: body.into(),
        group: None,
    }
}

impl Message {
    /// Sets the message id.
    pub fn id(mut self, id: &str) -> Self {
        self.id = id.to_owned();
        self
    }

    /// Sets a top-level field of the body (e.g. `commandId`, `expectedVersion`).
    pub fn with(mut self, field: &str, value: Value) -> Self {
        let mut body: Value = serde_json::from_str(&self.body).expect("a JSON body");
        body[field] = value;
        self.body = body.to_string();
        self
    }

    /// Sets the FIFO message group.
    pub fn group(mut self, group: &str) -> Self {
        self.group = Some(group.to_owned());
        self
    }

    fn inbound(&self) -> InboundMessage {
        InboundMessage {
            message_id: self.id.clone(),
            body: self.body.clone(),
            message_group_id: self.group.clone(),
            receive_count: None,
        }
    }
}

/// A scenario: a fresh in-memory store and the repository's configs.
pub struct Scenario {
    handler: TestHandler,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    /// A fresh scenario.
    pub fn new() -> Self {
        let store = Arc::new(SqliteStore::in_memory().expect("in-memory SQLite"));
        Self {
            handler: Handler::new(store, DirConfigSource::new(config_dir())),
        }
    }

    /// A fresh scenario over the configs of `dir` (a temporary directory a
    /// test wrote) instead of the repository's.
    pub fn with_config_dir(dir: impl Into<PathBuf>) -> Self {
        let store = Arc::new(SqliteStore::in_memory().expect("in-memory SQLite"));
        Self {
            handler: Handler::new(store, DirConfigSource::new(dir)),
        }
    }

    /// The handler, to change options or reach the store.
    pub fn handler(&self) -> &TestHandler {
        &self.handler
    }

    /// The handler, to rebuild it (e.g. with a rejection sink).
    pub fn into_handler(self) -> TestHandler {
        self.handler
    }

    /// A scenario on a handler built elsewhere.
    pub fn from_handler(handler: TestHandler) -> Self {
        Self { handler }
    }

    /// Replaces the handler's options.
    pub fn with_options(mut self, options: batch_handler::HandlerOptions) -> Self {
        self.handler = self.handler.with_options(options);
        self
    }

    /// Given these commands, applied in one batch each; each must apply.
    pub async fn given_commands(self, commands: Vec<Message>) -> Self {
        for message in commands {
            let report = run(&self.handler, std::slice::from_ref(&message), false).await;
            if let Err(failure) = &report.outcomes[0].result {
                panic!("given command {} failed: {failure}", message.body);
            }
        }
        self
    }

    /// When this batch arrives (standard queue).
    pub async fn when(self, batch: Vec<Message>) -> Then {
        let report = run(&self.handler, &batch, false).await;
        Then {
            handler: self.handler,
            report,
        }
    }

    /// When this batch arrives on a FIFO queue.
    pub async fn when_fifo(self, batch: Vec<Message>) -> Then {
        let report = run(&self.handler, &batch, true).await;
        Then {
            handler: self.handler,
            report,
        }
    }
}

async fn run(handler: &TestHandler, messages: &[Message], fifo: bool) -> BatchReport {
    handler
        .handle(Batch {
            messages: messages.iter().map(Message::inbound).collect(),
            fifo,
            deadline: None,
        })
        .await
}

/// What a batch did, to check.
pub struct Then {
    handler: TestHandler,
    /// The handler's report.
    pub report: BatchReport,
}

impl Then {
    /// Exactly these message ids are reported as failed.
    pub fn then_failed(self, ids: &[&str]) -> Self {
        let mut failed = self.report.failed_message_ids();
        failed.sort();
        let mut want: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(failed, want, "failed ids; report: {:#?}", self.report);
        self
    }

    /// The message failed with this reason code.
    pub fn then_reason(self, id: &str, code: &str) -> Self {
        let failure = self.failure(id);
        assert_eq!(failure.code(), code, "reason of {id}: {failure}");
        self
    }

    /// The message applied, at this version (`duplicate` as given).
    pub fn then_applied(self, id: &str, version: u64, duplicate: bool) -> Self {
        let outcome = self.outcome(id);
        assert_eq!(
            outcome.result,
            Ok(Applied {
                stale: None,
                version,
                duplicate
            }),
            "outcome of {id}"
        );
        self
    }

    /// The aggregate's stored events have exactly these types, versions 1..n.
    pub async fn then_events(self, aggregate_type: &str, id: &str, types: &[&str]) -> Self {
        let key = AggregateKey::new(aggregate_type, id);
        let events = all_events(self.handler.store(), &key)
            .await
            .expect("events");
        let got: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(got, types, "events of {key}");
        assert!(events.iter().zip(1..).all(|(e, v)| e.version == v));
        self
    }

    /// The aggregate's head is at this state and version.
    pub async fn then_state(
        self,
        aggregate_type: &str,
        id: &str,
        state: &str,
        version: u64,
    ) -> Self {
        let key = AggregateKey::new(aggregate_type, id);
        let head = self
            .handler
            .store()
            .load(&key, &[])
            .await
            .expect("load")
            .head
            .unwrap_or_else(|| panic!("{key} has no head"));
        assert_eq!((head.state.as_str(), head.version), (state, version));
        self
    }

    /// The failure of one message.
    pub fn failure(&self, id: &str) -> &Failure {
        match &self.outcome(id).result {
            Err(f) => f,
            Ok(a) => panic!("{id} applied ({a:?}), expected a failure"),
        }
    }

    fn outcome(&self, id: &str) -> &handler_core::MessageOutcome {
        self.report
            .outcomes
            .iter()
            .find(|o| o.message_id == id)
            .unwrap_or_else(|| panic!("no outcome for {id}"))
    }

    /// Back to a scenario on the same store, for another batch.
    pub fn and(self) -> Scenario {
        Scenario {
            handler: self.handler,
        }
    }
}
