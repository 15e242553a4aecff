//! The event feed over the table (docs/cost.md, "Reading a type's events
//! without a scan"), the processors' checkpoints, and the events of one
//! correlation.
//!
//! - **Feed:** one type at a time (the query must name it). The listing
//!   index [`items::LISTING_INDEX`] pages the type's aggregates, shard 0 to
//!   31, ids in order within a shard; each aggregate's events are read by
//!   `Query` on its `pk` in version order (eventually consistent: a replay
//!   reads history). `since` is applied as the events are read. The cursor
//!   is the last event read: `{shard}:{version}:{id}`. The order is per
//!   aggregate, not across aggregates; events appended behind the walk's
//!   position are not seen by it (the stream is the live path).
//! - **Checkpoints:** one item `#checkpoint#{name}`, `sk` 0, `itemType`
//!   `checkpoint`, `cursor`, `savedAt`.
//! - **Correlations:** a filtered `Scan` of the whole table: an operator's
//!   look-up, which costs 1 RRU per 8 KB of the table (eventually
//!   consistent), whatever it finds.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use dynamodb_layout::items::LIST_SHARDS;
use handler_core::{
    AggregateKey, Checkpoints, Correlations, EventFeed, FeedPage, FeedQuery, StoreError,
    StoredEvent, rfc3339_millis,
};

use crate::items::{self, Item, checkpoint_pk, key, number_attr, string_attr};
use crate::{DynamoStore, errors};

/// How many aggregate ids one listing query asks for.
const IDS_PER_PAGE: usize = 100;

/// Where a walk over a type stands: after event `version` of aggregate `id`
/// (in listing shard `shard`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Position {
    shard: u8,
    version: u64,
    id: String,
}

impl Position {
    fn parse(cursor: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::corrupt(format!("not a cursor of the DynamoDB feed: {cursor:?}"));
        let mut parts = cursor.splitn(3, ':');
        let shard = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let version = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let id = parts.next().ok_or_else(bad)?.to_owned();
        Ok(Self { shard, version, id })
    }

    fn text(&self) -> String {
        format!("{}:{}:{}", self.shard, self.version, self.id)
    }
}

/// A stored event from its item.
fn stored_event(key_of: &AggregateKey, item: &Item) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        key: key_of.clone(),
        event: items::parse_event(item)?,
        data: items::parse_head(item)?.data,
    })
}

#[async_trait]
impl EventFeed for DynamoStore {
    /// Reads on from the cursor through the listing index and per-aggregate
    /// queries (see the module doc). A query that names no type is refused
    /// (`Corrupt`: a caller's error, not a transient one).
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        let Some(aggregate_type) = query.aggregate_type.as_deref() else {
            return Err(StoreError::corrupt(
                "the DynamoDB event feed reads one aggregate type at a time: the query names none",
            ));
        };
        let mut position = after.map(Position::parse).transpose()?;
        // The aggregate the cursor stands in is finished first.
        let mut resume = position.clone();
        let mut events = Vec::new();
        let mut shard = position.as_ref().map_or(0, |p| p.shard);
        while events.len() < limit && shard < LIST_SHARDS {
            let after_id = position
                .as_ref()
                .filter(|p| p.shard == shard)
                .map(|p| p.id.clone());
            let mut ids = Vec::new();
            if let Some(p) = resume.take().filter(|p| p.shard == shard) {
                ids.push((p.id, p.version));
            }
            let (listed, more_ids) = self
                .shard_ids(aggregate_type, shard, after_id.as_deref(), IDS_PER_PAGE)
                .await?;
            ids.extend(listed.into_iter().map(|id| (id, 0)));
            for (id, after_version) in ids {
                let key_of = AggregateKey::new(aggregate_type, &id);
                let (found, more) = self
                    .items_after(&key_of, after_version, limit - events.len(), false)
                    .await?;
                let mut version = after_version;
                for item in &found {
                    let event = stored_event(&key_of, item)?;
                    version = event.event.version;
                    if query
                        .since
                        .as_deref()
                        .is_none_or(|since| event.event.recorded_at.as_str() >= since)
                    {
                        events.push(event);
                    }
                }
                position = Some(Position { shard, version, id });
                if more || events.len() >= limit {
                    return Ok(FeedPage {
                        events,
                        cursor: position.map(|p| p.text()),
                        more: true,
                    });
                }
            }
            if !more_ids {
                shard += 1;
            }
        }
        Ok(FeedPage {
            more: shard < LIST_SHARDS,
            events,
            cursor: position.map(|p| p.text()),
        })
    }
}

#[async_trait]
impl Checkpoints for DynamoStore {
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.item_at(checkpoint_pk(name))
            .await?
            .map(|item| items::get_s(&item, "cursor").map(str::to_owned))
            .transpose()
    }

    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        let mut item = key(checkpoint_pk(name), 0);
        item.insert("itemType".into(), string_attr("checkpoint"));
        item.insert("cursor".into(), string_attr(cursor));
        item.insert(
            "savedAt".into(),
            string_attr(rfc3339_millis(self.clock.now())),
        );
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(errors::store_error)
    }
}

#[async_trait]
impl Correlations for DynamoStore {
    /// A filtered `Scan` (see the module doc): event items whose `commandId`
    /// is the id, or whose metadata holds it as `correlationId` (matched in
    /// the text, then checked parsed).
    async fn correlated(
        &self,
        correlation_id: &str,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let needle = format!(
            "\"correlationId\":{}",
            serde_json::Value::String(correlation_id.to_owned())
        );
        let mut found = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "sk >= :one AND (commandId = :id OR contains(metadata, :needle))",
                )
                .expression_attribute_values(":one", number_attr(1))
                .expression_attribute_values(":id", string_attr(correlation_id))
                .expression_attribute_values(":needle", string_attr(&needle))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(errors::store_error)?;
            for item in page.items() {
                let Some(AttributeValue::S(pk)) = item.get("pk") else {
                    continue;
                };
                let Some((aggregate_type, aggregate_id)) = pk.split_once('#') else {
                    continue;
                };
                let event = stored_event(&AggregateKey::new(aggregate_type, aggregate_id), item)?;
                let correlated = event.event.command_id == correlation_id
                    || event.event.metadata.get("correlationId")
                        == Some(&serde_json::Value::String(correlation_id.to_owned()));
                if correlated {
                    found.push(event);
                }
            }
            match page.last_evaluated_key() {
                Some(k) if !k.is_empty() && found.len() < limit => start = Some(k.clone()),
                _ => break,
            }
        }
        found.sort_by(|a, b| {
            (&a.event.recorded_at, &a.key, a.event.version).cmp(&(
                &b.event.recorded_at,
                &b.key,
                b.event.version,
            ))
        });
        found.truncate(limit);
        Ok(found)
    }
}
