//! The DynamoDB [`EventStore`], on the table of docs/reference.md §3 (item layout in
//! [`items`]).
//!
//! - **Load** is one `BatchGetItem` (consistent reads): the aggregate's head
//!   item, which holds its current state, and the idempotency records of the
//!   batch's command ids. Its cost does not grow with history.
//! - **Append** is one `TransactWriteItems` of up to 100 actions: every event
//!   (`attribute_not_exists(pk)`), every command record
//!   (`attribute_not_exists(pk)`) and the head (`version = :expected`, or
//!   absent for a new aggregate). A lost race is [`AppendError::Conflict`], a
//!   taken command id [`AppendError::DuplicateCommand`]; nothing is written.
//! - **Events** are read with `Query` (consistent), following
//!   `LastEvaluatedKey`, so a history over 1 MB reads whole.
//!
//! The attributes of what an append writes, their sizes and DynamoDB's limits
//! are `dynamodb-layout`'s ([`DynamoLayout`] is this store's
//! [`EventStore::sizing`]).
//!
//! It depends on `handler-core`, `dynamodb-layout` and `aws-sdk-dynamodb`;
//! nothing of the handler's logic lives here. Build the client once and share it.
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_dynamodb::Client) -> Result<(), store_dynamodb::DynamoError> {
//! // The client is built once, e.g. `aws_sdk_dynamodb::Client::new(&sdk_config)`.
//! store_dynamodb::create_table(&client, "events").await?;
//! let store = store_dynamodb::DynamoStore::new(client, "events");
//! # let _ = store; Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod check;
mod errors;
pub mod items;
mod table;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem};
use dynamodb_layout::DynamoLayout;
use futures::StreamExt;
use handler_core::{
    AggregateIndex, AggregateKey, AggregateSummary, AppendError, Commit, CommitSizing, Event,
    EventStore, FailureLog, FailureRecord, Loaded, StoreError, StoredFailure, now_rfc3339,
};

pub use check::TableCheckError;
pub use errors::DynamoError;
pub use table::create_table;

use crate::items::{Item, aggregate_pk, command_pk, failure_pk, key, number_attr, string_attr};

/// SQS's longest message retention, on a queue and on its DLQ alike.
pub const SQS_MAX_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

/// How long a command's idempotency record (and a failure record) is kept
/// after it is written: 60 days, longer than any copy of the message can
/// come back, a redrive included. A copy lives at most
/// [`SQS_MAX_RETENTION`] on the command queue and, dead-lettered, at most
/// as long again in the DLQ (a FIFO DLQ restarts the clock): 28 days from
/// its enqueue. A redrive enqueues a new copy, with 28 days again. So every
/// copy that exists when the command applies is gone within 28 days, and a
/// copy redriven as late as that within 56.
pub const DEFAULT_COMMAND_TTL: Duration = Duration::from_secs(60 * 24 * 3600);

/// BatchGetItem takes at most 100 keys.
const MAX_BATCH_GET: usize = 100;

/// How many failure records are written at once: a batch of ten failures
/// (SQS's largest) goes out in one round, a larger one (a worker's, a test's)
/// does not open a connection per message.
pub const MAX_CONCURRENT_FAILURE_WRITES: usize = 10;

/// The DynamoDB event store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    command_ttl: Duration,
}

impl DynamoStore {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            command_ttl: DEFAULT_COMMAND_TTL,
        }
    }

    /// Replaces how long idempotency records are kept.
    pub fn with_command_ttl(mut self, ttl: Duration) -> Self {
        self.command_ttl = ttl;
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Reads the given keys with consistent reads, following
    /// `UnprocessedKeys` (throttling) a bounded number of times.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(MAX_BATCH_GET) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            );
            let mut attempt = 0u32;
            while let Some(request) = pending.take() {
                if attempt > 0 {
                    tokio::time::sleep(Duration::from_millis(25 << attempt.min(6))).await;
                }
                attempt += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(errors::store_error)?;
                if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                    found.extend(items.iter().cloned());
                }
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if pending.is_some() && attempt >= 8 {
                    return Err(StoreError::Unavailable(
                        "BatchGetItem left keys unprocessed after 8 attempts (throttled)".into(),
                    ));
                }
            }
        }
        Ok(found)
    }

    fn expires_at(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_add(self.command_ttl)
            .as_secs()
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn load(
        &self,
        key_of: &AggregateKey,
        command_ids: &[String],
    ) -> Result<Loaded, StoreError> {
        let head_pk = aggregate_pk(key_of);
        let mut ids: Vec<&String> = command_ids.iter().collect();
        ids.sort();
        ids.dedup();
        let mut keys = vec![key(head_pk.clone(), 0)];
        keys.extend(ids.iter().map(|id| key(command_pk(id), 0)));

        let mut loaded = Loaded::default();
        for item in self.batch_get(keys).await? {
            if items::get_s(&item, "pk")? == head_pk {
                loaded.head = Some(items::parse_head(&item)?);
            } else {
                loaded.commands.push(items::parse_command(&item)?);
            }
        }
        Ok(loaded)
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        let limits = dynamodb_layout::LIMITS;
        let actions = commit.events.len() + commit.commands.len() + 1;
        if actions > limits.max_items_per_commit {
            return Err(AppendError::TooLarge(format!(
                "{actions} items in one transaction, over DynamoDB's {} actions",
                limits.max_items_per_commit
            )));
        }
        let expires_at = self.expires_at();
        let mut writes = Vec::with_capacity(actions);
        for event in &commit.events {
            writes.push(put_new(&self.table, items::event_item(&commit.key, event))?);
        }
        for record in &commit.commands {
            writes.push(put_new(
                &self.table,
                items::command_item(record, expires_at),
            )?);
        }
        let head = items::head_item(&commit.key, &commit.head, &now_rfc3339());
        let head_put = if commit.expected_version == 0 {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(head))
                .condition_expression("attribute_not_exists(pk)")
        } else {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(head))
                .condition_expression("#v = :expected")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", number_attr(commit.expected_version))
        };
        writes.push(
            TransactWriteItem::builder()
                .put(head_put.build().map_err(build_error)?)
                .build(),
        );

        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => Err(errors::append_error(e, commit)),
        }
    }

    async fn events(
        &self,
        key_of: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let remaining = limit.saturating_sub(out.len());
            if remaining == 0 {
                break;
            }
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", string_attr(aggregate_pk(key_of)))
                .expression_attribute_values(":after", number_attr(after_version))
                .consistent_read(true)
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(errors::store_error)?;
            for item in page.items() {
                out.push(items::parse_event(item)?);
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }

    fn sizing(&self) -> &dyn CommitSizing {
        &DynamoLayout
    }
}

#[async_trait]
impl FailureLog for DynamoStore {
    /// One UpdateItem per failed message, at most
    /// [`MAX_CONCURRENT_FAILURE_WRITES`] at once: the latest failure, the
    /// first failure time kept, a count added to. Every record is attempted;
    /// the first error is returned.
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        let expires_at = self.expires_at();
        let updates = failures.iter().map(|f| async move {
            let record = serde_json::to_string(f)
                .map_err(|e| StoreError::Corrupt(format!("failure record: {e}")))?;
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(failure_pk(&f.message_id), 0)))
                .update_expression(
                    "SET itemType = :type, code = :code, reason = :reason, #record = :record, \
                     lastFailedAt = :now, firstFailedAt = if_not_exists(firstFailedAt, :now), \
                     #ttl = :ttl ADD failures :one",
                )
                .expression_attribute_names("#record", "record")
                .expression_attribute_names("#ttl", items::TTL_ATTRIBUTE)
                .expression_attribute_values(":type", string_attr("failure"))
                .expression_attribute_values(":code", string_attr(&f.code))
                .expression_attribute_values(":reason", string_attr(&f.reason))
                .expression_attribute_values(":record", string_attr(record))
                .expression_attribute_values(":now", string_attr(&f.failed_at))
                .expression_attribute_values(":ttl", number_attr(expires_at))
                .expression_attribute_values(":one", number_attr(1))
                .send()
                .await
                .map_err(errors::store_error)?;
            Ok::<_, StoreError>(())
        });
        // Collected first: a lazy map here trips the `Send` bound of the
        // boxed trait future (a higher-ranked closure lifetime).
        let updates: Vec<_> = updates.collect();
        futures::stream::iter(updates)
            .buffer_unordered(MAX_CONCURRENT_FAILURE_WRITES)
            .collect::<Vec<Result<(), StoreError>>>()
            .await
            .into_iter()
            .collect()
    }

    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(failure_pk(message_id), 0)))
            .consistent_read(true)
            .send()
            .await
            .map_err(errors::store_error)?;
        out.item().map(items::parse_failure).transpose()
    }
}

#[async_trait]
impl AggregateIndex for DynamoStore {
    /// A Query on the sparse index of heads (eventually consistent, as GSIs
    /// are), following `LastEvaluatedKey` until `limit` ids.
    async fn list_aggregates(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        while out.len() < limit {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(items::HEADS_INDEX)
                .expression_attribute_values(":type", string_attr(aggregate_type))
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match after {
                Some(after) => query
                    .key_condition_expression("headType = :type AND headId > :after")
                    .expression_attribute_values(":after", string_attr(after)),
                None => query.key_condition_expression("headType = :type"),
            };
            let page = query.send().await.map_err(errors::store_error)?;
            for item in page.items() {
                out.push(AggregateSummary {
                    aggregate_id: items::get_s(item, "headId")?.to_owned(),
                    state: items::get_s(item, "state")?.to_owned(),
                    version: items::get_n(item, "version")?,
                });
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// A Put that must not overwrite an existing item.
fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, AppendError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(build_error)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> AppendError {
    AppendError::Store(StoreError::Unavailable(format!("request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_outlive_a_message_redriven_once_from_a_fifo_dlq() {
        // On the queue, then in a DLQ that restarts the clock ...
        let one_life = SQS_MAX_RETENTION * 2;
        // ... then redriven at the last moment, and again.
        assert!(
            DEFAULT_COMMAND_TTL > one_life * 2,
            "{DEFAULT_COMMAND_TTL:?}"
        );
    }
}
