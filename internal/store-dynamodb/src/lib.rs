//! The DynamoDB [`EventStore`], on the table of docs/reference.md §3 (item layout in
//! [`items`]).
//!
//! Table layout 2 (docs/cost.md): one item per event, which carries the state after
//! it and its command's fingerprint (and the alarms it changed); the last
//! item of each append also carries the aggregate's alarms; no head item, no
//! idempotency record.
//!
//! - **Load** is consistent `Query`s: the newest event (`Limit` 1, newest
//!   first), which is the head; then, when there is one, for each asked
//!   command id its entry in the local index [`items::COMMAND_INDEX`] (this
//!   aggregate's only: idempotency is scoped to the aggregate), issued
//!   together. The lookups wait for the head: read at the same time, a twin's
//!   write could fall between them and its command apply twice. Its cost
//!   does not grow with history.
//! - **Append** of one event is one `PutItem` under
//!   `attribute_not_exists(pk)`; of k > 1 events, one `TransactWriteItems` of
//!   k such puts (up to 100). Writing version `v + 1` fails exactly when
//!   someone else wrote it: [`AppendError::Conflict`], nothing written. A
//!   twin delivery that lost the race finds its twin's event on reload.
//! - **Listing** pages the sparse index [`items::LISTING_INDEX`], written
//!   once per aggregate by its version-1 event, shard by shard (32 per type),
//!   and loads each listed aggregate's head.
//! - **Events** are read with `Query` (consistent), following
//!   `LastEvaluatedKey`, so a history over 1 MB reads whole.
//!
//! - **The event feed** (replay), checkpoints and a correlation's events
//!   are in `feed`: the listing index, then per-aggregate `Query`s; a
//!   checkpoint item per replay; a filtered `Scan` for `cmdctl trace`.
//!
//! The attributes of what an append writes, their sizes and DynamoDB's limits
//! are `dynamodb-layout`'s ([`DynamoLayout`] is this store's
//! [`EventStore::sizing`]).
//!
//! A binary checks the table before it uses it ([`check_before_use`]: a
//! wrong layout refuses to start, an unanswered check only warns).
//!
//! What it may depend on: the traits it implements (`handler-core`), the
//! AWS-free `dynamodb-layout`, the DynamoDB SDK and `sdk-error`; never
//! another adapter. Nothing of the handler's logic lives here. Build the
//! client once and share it.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use handler_core::SystemClock;
//! # async fn demo(client: aws_sdk_dynamodb::Client) -> Result<(), store_dynamodb::DynamoError> {
//! // The client is built once, e.g. `aws_sdk_dynamodb::Client::new(&sdk_config)`.
//! store_dynamodb::create_table(&client, "events").await?;
//! let store = store_dynamodb::DynamoStore::new(client, "events", Arc::new(SystemClock));
//! # let _ = store; Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod check;
mod errors;
mod feed;
pub mod items;
mod table;
mod table_check;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use dynamodb_layout::DynamoLayout;
use dynamodb_layout::items::LIST_SHARDS;
use futures::StreamExt;
use handler_core::state_machine::AggregateState;
use handler_core::{
    AggregateIndex, AggregateKey, AggregateSummary, AppendError, Clock, CommandRecord, Commit,
    CommitSizing, Event, EventStore, FailureLog, FailureRecord, Loaded, StoreError, StoredFailure,
};

pub use check::TableCheckError;
pub use errors::DynamoError;
pub use table::{create_table, table_definition};
pub use table_check::check_before_use;

use crate::items::{
    Item, aggregate_pk, failure_pk, key, list_shard, list_shard_of, number_attr, string_attr,
};

/// SQS's longest message retention, on a queue and on its DLQ alike.
pub const SQS_MAX_RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

/// How long a failure record is kept after its latest failure: 60 days,
/// longer than any copy of the message can come back to be explained, a
/// redrive included. A copy lives at most [`SQS_MAX_RETENTION`] on the
/// command queue and, dead-lettered, at most as long again in the DLQ (a
/// FIFO DLQ restarts the clock): 28 days from its enqueue. A redrive enqueues
/// a new copy, with 28 days again. (Idempotency needs no TTL: it is kept on
/// the events, for the aggregate's whole life.)
pub const DEFAULT_FAILURE_TTL: Duration = Duration::from_secs(60 * 24 * 3600);

/// How many reads one load or listing has in flight at once: the command ids
/// of a batch of ten (SQS's largest) go out in one round.
pub const MAX_CONCURRENT_READS: usize = 16;

/// How many failure records are written at once: a batch of ten failures
/// (SQS's largest) goes out in one round, a larger one (a worker's, a test's)
/// does not open a connection per message.
pub const MAX_CONCURRENT_FAILURE_WRITES: usize = 10;

/// The condition of every event put: its version is not written yet.
const NEW_ITEM: &str = "attribute_not_exists(pk)";

/// The DynamoDB event store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    failure_ttl: Duration,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    /// A store on `table`; `clock` dates what the store itself writes (a
    /// checkpoint's `savedAt`, a failure record's `expiresAt`).
    pub fn new(client: Client, table: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table: table.into(),
            failure_ttl: DEFAULT_FAILURE_TTL,
            clock,
        }
    }

    /// Replaces how long failure records are kept.
    pub fn with_failure_ttl(mut self, ttl: Duration) -> Self {
        self.failure_ttl = ttl;
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The aggregate's head: its newest event, read consistently.
    async fn head(&self, key_of: &AggregateKey) -> Result<Option<AggregateState>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", string_attr(aggregate_pk(key_of)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(errors::store_error)?;
        out.items().first().map(items::parse_head).transpose()
    }

    /// The record of `command_id` on this aggregate, from [`items::COMMAND_INDEX`]
    /// read consistently.
    async fn command(
        &self,
        key_of: &AggregateKey,
        command_id: &str,
    ) -> Result<Option<CommandRecord>, StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(items::COMMAND_INDEX)
            .key_condition_expression("pk = :pk AND commandId = :id")
            .expression_attribute_values(":pk", string_attr(aggregate_pk(key_of)))
            .expression_attribute_values(":id", string_attr(command_id))
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(errors::store_error)?;
        out.items()
            .first()
            .map(|item| items::parse_command(key_of, item))
            .transpose()
    }

    /// Up to `limit` ids of one listing shard, after `after` (exclusive), in
    /// id order, and whether the shard has more.
    async fn shard_ids(
        &self,
        aggregate_type: &str,
        shard: u8,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<String>, bool), StoreError> {
        let mut ids = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(items::LISTING_INDEX)
                .expression_attribute_values(
                    ":shard",
                    string_attr(list_shard(aggregate_type, shard)),
                )
                .limit(i32::try_from(limit - ids.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take());
            query = match after {
                Some(after) => query
                    .key_condition_expression("listShard = :shard AND listId > :after")
                    .expression_attribute_values(":after", string_attr(after)),
                None => query.key_condition_expression("listShard = :shard"),
            };
            let page = query.send().await.map_err(errors::store_error)?;
            for item in page.items() {
                ids.push(items::get_s(item, dynamodb_layout::items::attr::LIST_ID)?.to_owned());
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() && ids.len() < limit => start = Some(k.clone()),
                Some(k) if !k.is_empty() => return Ok((ids, true)),
                _ => return Ok((ids, false)),
            }
        }
    }

    /// Up to `limit` event items of one aggregate after `after_version`, in
    /// version order, following `LastEvaluatedKey` (a history over 1 MB
    /// reads whole), and whether it has more.
    async fn items_after(
        &self,
        key_of: &AggregateKey,
        after_version: u64,
        limit: usize,
        consistent: bool,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        while out.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(":pk", string_attr(aggregate_pk(key_of)))
                .expression_attribute_values(":after", number_attr(after_version))
                .consistent_read(consistent)
                .limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(errors::store_error)?;
            out.extend(page.items().iter().cloned());
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok((out, false)),
            }
        }
        Ok((out, start.is_some()))
    }

    /// The item at (`pk`, 0), read consistently: a failure record or a
    /// checkpoint.
    async fn item_at(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, 0)))
            .consistent_read(true)
            .send()
            .await
            .map_err(errors::store_error)?;
        Ok(out.item)
    }

    fn expires_at(&self) -> u64 {
        let now = u64::try_from(self.clock.now().as_second()).unwrap_or_default();
        now.saturating_add(self.failure_ttl.as_secs())
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn load(
        &self,
        key_of: &AggregateKey,
        command_ids: &[String],
    ) -> Result<Loaded, StoreError> {
        // The head first, the command ids after it: a command applied at a
        // version the head read saw is then found, and one applied after it
        // makes the append conflict. Read together, a lookup could run just
        // before a twin's write and the head read just after it, and the
        // command would apply twice.
        let Some(head) = self.head(key_of).await? else {
            // No event: no command can have been applied.
            return Ok(Loaded::default());
        };
        let mut ids: Vec<&String> = command_ids.iter().collect();
        ids.sort();
        ids.dedup();
        // Collected first: a lazy map here trips the `Send` bound of the
        // boxed trait future (a higher-ranked closure lifetime).
        let lookups: Vec<_> = ids.iter().map(|id| self.command(key_of, id)).collect();
        let mut commands = Vec::new();
        for record in futures::stream::iter(lookups)
            .buffer_unordered(MAX_CONCURRENT_READS)
            .collect::<Vec<Result<Option<CommandRecord>, StoreError>>>()
            .await
        {
            commands.extend(record?);
        }
        Ok(Loaded {
            head: Some(head),
            commands,
        })
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        let limits = dynamodb_layout::LIMITS;
        let n = commit.events.len();
        if n > limits.max_items_per_commit {
            return Err(AppendError::TooLarge(format!(
                "{n} items in one transaction, over DynamoDB's {} actions",
                limits.max_items_per_commit
            )));
        }
        if n == 0 || commit.commands.len() != n || commit.data_after.len() != n {
            return Err(AppendError::Store(StoreError::corrupt(format!(
                "commit for {} has {n} events, {} command records and {} states",
                commit.key,
                commit.commands.len(),
                commit.data_after.len()
            ))));
        }
        let mut items = items::commit_items(commit).into_iter();
        if n == 1 {
            return self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(items.next())
                .condition_expression(NEW_ITEM)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| errors::put_error(e, commit));
        }
        let writes = items
            .map(|item| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression(NEW_ITEM)
                    .build()
                    .map_err(build_error)?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>, AppendError>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| errors::append_error(e, commit))
    }

    async fn events(
        &self,
        key_of: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let (found, _) = self.items_after(key_of, after_version, limit, true).await?;
        found.iter().map(items::parse_event).collect()
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
                .map_err(|e| StoreError::corrupt(format!("failure record: {e}")).with_source(e))?;
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
        self.item_at(failure_pk(message_id))
            .await?
            .as_ref()
            .map(items::parse_failure)
            .transpose()
    }
}

#[async_trait]
impl AggregateIndex for DynamoStore {
    /// Pages the sparse index [`items::LISTING_INDEX`] (eventually
    /// consistent, as GSIs are) shard 0 to 31, ids in order within a shard,
    /// from the shard of `after`; then loads the listed aggregates' heads,
    /// [`MAX_CONCURRENT_READS`] at once.
    async fn list_aggregates(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError> {
        let mut ids = Vec::new();
        let mut shard = after.map_or(0, list_shard_of);
        let mut after = after;
        while ids.len() < limit && shard < LIST_SHARDS {
            let (found, more) = self
                .shard_ids(aggregate_type, shard, after, limit - ids.len())
                .await?;
            ids.extend(found);
            if !more {
                shard += 1;
                after = None;
            }
        }
        let loads: Vec<_> = ids
            .into_iter()
            .map(|id| async move {
                let key = AggregateKey::new(aggregate_type, id);
                let head = self.head(&key).await?.ok_or_else(|| {
                    StoreError::corrupt(format!("{key} is listed but has no event"))
                })?;
                Ok::<_, StoreError>(AggregateSummary {
                    aggregate_id: key.aggregate_id,
                    state: head.state,
                    version: head.version,
                })
            })
            .collect();
        futures::stream::iter(loads)
            .buffered(MAX_CONCURRENT_READS)
            .collect::<Vec<Result<AggregateSummary, StoreError>>>()
            .await
            .into_iter()
            .collect()
    }
}

fn build_error(e: aws_sdk_dynamodb::error::BuildError) -> AppendError {
    AppendError::Store(StoreError::unavailable(format!("request: {e}")).with_source(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_records_outlive_a_message_redriven_once_from_a_fifo_dlq() {
        // On the queue, then in a DLQ that restarts the clock ...
        let one_life = SQS_MAX_RETENTION * 2;
        // ... then redriven at the last moment, and again.
        assert!(
            DEFAULT_FAILURE_TTL > one_life * 2,
            "{DEFAULT_FAILURE_TTL:?}"
        );
    }
}
