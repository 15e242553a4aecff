//! The event feed over the embedded store: every event in the order it was
//! appended (its `seq`, assigned in the append's transaction under SQLite's
//! single writer, so a reader never sees a later number before an earlier
//! one), filtered by type through `events_by_type`; the checkpoints of named
//! processors; and the events of one correlation (`cmdctl trace`).

use async_trait::async_trait;
use handler_core::{
    AggregateKey, Checkpoints, Correlations, EventFeed, FeedPage, FeedQuery, StoreError,
    StoredEvent,
};
use rusqlite::{OptionalExtension, params};

use crate::{EVENT_COLUMNS, EventRow, SqliteStore, from_json, unavailable};

/// The columns of a feed row: the event's, then its sequence, type, key and
/// data after it.
fn feed_columns() -> String {
    format!("{EVENT_COLUMNS}, seq, aggregate_type, pk, data")
}

/// One feed row: its sequence number and the stored event.
fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, EventRow, String, String, String)> {
    Ok((
        r.get(9)?,
        EventRow::read(r)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

fn stored_event(
    (seq, row, aggregate_type, pk, data): (i64, EventRow, String, String, String),
) -> Result<(i64, StoredEvent), StoreError> {
    let aggregate_id = pk
        .strip_prefix(&aggregate_type)
        .and_then(|rest| rest.strip_prefix('#'))
        .ok_or_else(|| StoreError::corrupt(format!("event {seq}: key does not match its type")))?;
    Ok((
        seq,
        StoredEvent {
            key: AggregateKey::new(&aggregate_type, aggregate_id),
            event: row.event()?,
            data: from_json(&data)?,
        },
    ))
}

/// A cursor of this feed: the `seq` of the last event read, in decimal.
fn parse_cursor(cursor: &str) -> Result<i64, StoreError> {
    cursor
        .parse::<i64>()
        .ok()
        .filter(|seq| *seq >= 0)
        .ok_or_else(|| StoreError::corrupt(format!("not a cursor of the SQLite feed: {cursor:?}")))
}

#[async_trait]
impl EventFeed for SqliteStore {
    /// Up to `limit` events after the cursor, in append order; `more` when
    /// the page is full (a next read may find nothing).
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        let after = after.map(parse_cursor).transpose()?.unwrap_or(0);
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM events
                 WHERE seq > ?1 AND (?2 IS NULL OR aggregate_type = ?2)
                   AND (?3 IS NULL OR recorded_at >= ?3)
                 ORDER BY seq LIMIT CAST(?4 AS INTEGER)",
                feed_columns()
            ))
            .map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![
                    after,
                    query.aggregate_type,
                    query.since,
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                read_row,
            )
            .map_err(unavailable)?;
        let mut events = Vec::new();
        let mut last = None;
        for row in rows {
            let (seq, event) = stored_event(row.map_err(unavailable)?)?;
            last = Some(seq);
            events.push(event);
        }
        Ok(FeedPage {
            more: events.len() >= limit && limit > 0,
            events,
            cursor: last.map(|seq| seq.to_string()),
        })
    }
}

#[async_trait]
impl Checkpoints for SqliteStore {
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        let conn = self.conn()?;
        conn.prepare_cached("SELECT cursor FROM checkpoints WHERE name = ?1")
            .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
            .map_err(unavailable)
    }

    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO checkpoints (name, cursor) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor",
        )
        .and_then(|mut s| s.execute(params![name, cursor]))
        .map(|_| ())
        .map_err(unavailable)
    }
}

#[async_trait]
impl Correlations for SqliteStore {
    /// A scan of the events table (`json_extract` on each row's metadata):
    /// an operator's look-up on a local file.
    async fn correlated(
        &self,
        correlation_id: &str,
        limit: usize,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {} FROM events
                 WHERE json_extract(metadata, '$.correlationId') = ?1 OR command_id = ?1
                 ORDER BY recorded_at, pk, version LIMIT CAST(?2 AS INTEGER)",
                feed_columns()
            ))
            .map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![correlation_id, i64::try_from(limit).unwrap_or(i64::MAX)],
                read_row,
            )
            .map_err(unavailable)?;
        rows.map(|row| Ok(stored_event(row.map_err(unavailable)?)?.1))
            .collect()
    }
}
