//! What the batch handler's benches share: the repository's ticket config
//! (held in `test_doubles::MemoryConfigs`: the bench measures the handler,
//! not the file system), and command bodies for it.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use async_trait::async_trait;
use handler_core::InboundMessage;
use handler_core::config_source::compile;
use handler_core::state_machine::StateMachine;

/// The repository's `config/ticket.json`, compiled once: a ticket takes
/// any number of comments and assignments, so one aggregate can take a batch
/// of any size.
pub fn ticket_machine() -> Arc<StateMachine> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/ticket.json");
    let bytes = std::fs::read(path).expect("config/ticket.json");
    Arc::new(compile(path, &bytes, Some("ticket")).expect("ticket config"))
}

/// The body of a ticket's command number `step` (0 opens it; then comments
/// and assignments alternate, each allowed after the one before).
pub fn body(id: &str, step: usize, command_id: &str) -> String {
    let (command, payload) = match step {
        0 => ("OpenTicket", r#"{"title":"printer on fire"}"#),
        s if s % 2 == 1 => ("Comment", r#"{"text":"looking into it"}"#),
        _ => ("Assign", r#"{"assignee":"sam"}"#),
    };
    format!(
        r#"{{"aggregateType":"ticket","aggregateId":"{id}","command":"{command}","commandId":"{command_id}","payload":{payload}}}"#
    )
}

/// A batch of `aggregates × steps` messages: for each step from `first`,
/// one command per aggregate `t-{run}-{a}`. `run` keeps ids unique across
/// batches.
pub fn messages(run: u64, aggregates: usize, first: usize, steps: usize) -> Vec<InboundMessage> {
    let mut out = Vec::with_capacity(aggregates * steps);
    for step in first..first + steps {
        for a in 0..aggregates {
            let id = format!("t-{run}-{a}");
            let message_id = format!("m-{run}-{a}-{step}");
            out.push(InboundMessage::new(
                message_id.clone(),
                body(&id, step, &message_id),
            ));
        }
    }
    out
}

/// A store that waits `delay` before every call, as a network round trip
/// would, then hands the call to `inner`; it counts the calls.
#[derive(Debug)]
pub struct Delayed<S> {
    pub inner: S,
    pub delay: std::time::Duration,
    pub calls: std::sync::atomic::AtomicU64,
}

impl<S> Delayed<S> {
    pub fn new(inner: S, delay: std::time::Duration) -> Self {
        Self {
            inner,
            delay,
            calls: std::sync::atomic::AtomicU64::new(0),
        }
    }

    async fn trip(&self) {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tokio::time::sleep(self.delay).await;
    }
}

#[async_trait]
impl<S: handler_core::EventStore> handler_core::EventStore for Delayed<S> {
    async fn load(
        &self,
        key: &handler_core::AggregateKey,
        command_ids: &[String],
    ) -> Result<handler_core::Loaded, handler_core::StoreError> {
        self.trip().await;
        self.inner.load(key, command_ids).await
    }
    async fn append(&self, commit: &handler_core::Commit) -> Result<(), handler_core::AppendError> {
        self.trip().await;
        self.inner.append(commit).await
    }
    async fn events(
        &self,
        key: &handler_core::AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<handler_core::Event>, handler_core::StoreError> {
        self.trip().await;
        self.inner.events(key, after_version, limit).await
    }
    fn sizing(&self) -> &dyn handler_core::CommitSizing {
        self.inner.sizing()
    }
}

#[async_trait]
impl<S: handler_core::FailureLog> handler_core::FailureLog for Delayed<S> {
    async fn record_failures(
        &self,
        failures: &[handler_core::FailureRecord],
    ) -> Result<(), handler_core::StoreError> {
        self.trip().await;
        self.inner.record_failures(failures).await
    }
    async fn failure(
        &self,
        message_id: &str,
    ) -> Result<Option<handler_core::StoredFailure>, handler_core::StoreError> {
        self.trip().await;
        self.inner.failure(message_id).await
    }
}
