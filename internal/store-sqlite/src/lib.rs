//! The embedded [`EventStore`]: one SQLite file (or memory), so the handler
//! runs on a laptop with no AWS. It keeps the DynamoDB store's semantics:
//! a head row per aggregate read in one query, idempotency per aggregate
//! (each event row holds its command's id and fingerprint, found by id within
//! the aggregate), and each [`Commit`] (events, head) written in one
//! transaction that fails as a whole on a stale version.
//!
//! A file of another file format (an older build's, `PRAGMA user_version`)
//! is refused at open with [`OpenError::OtherFileFormat`], which names the
//! file: it holds local data only,
//! and is deleted rather than converted.
//!
//! It is also the embedded outbox: every event carries a
//! sequence number assigned in its append's transaction, so the local event
//! processor reads the events after its checkpoint ([`EventFeed`],
//! [`Checkpoints`]); and it finds a correlation's events
//! ([`Correlations`], `cmdctl trace`). It keeps the alarms set and not yet
//! fired, written in the append's transaction, for the local run to fire
//! when due ([`SqliteStore::due_alarms`], [`SqliteStore::alarm_delivered`]),
//! and the reactions built and not yet finished, so a reaction that failed
//! transiently is run again by the next local run
//! ([`SqliteStore::keep_reactions`], [`SqliteStore::reaction_done`]).
//!
//! It counts and limits commits as the DynamoDB store does
//! (`dynamodb-layout`'s item sizes, 100 items and 4 MB per append, 400 KB per
//! item), although SQLite could take more: what runs locally must not be
//! refused as `too_large` once deployed.
//!
//! What it may depend on: the traits it implements (`handler-core`), the
//! AWS-free `dynamodb-layout` for those sizes, and SQLite; never AWS. Calls
//! run on the caller's task under a mutex: the work is local and short.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use handler_core::{AggregateKey, EventStore};
//! let store = store_sqlite::SqliteStore::in_memory().unwrap();
//! let loaded = store.load(&AggregateKey::new("order", "o-1"), &[]).await.unwrap();
//! assert!(loaded.head.is_none());
//! # });
//! ```
#![forbid(unsafe_code)]

mod alarms;
mod feed;
mod reactions;
mod schema;
mod shape;

pub use reactions::PendingReaction;
pub use schema::OpenError;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use dynamodb_layout::DynamoLayout;
use handler_core::state_machine::AggregateState;
use handler_core::{
    AggregateIndex, AggregateKey, AggregateSummary, AppendError, CommandRecord, Commit,
    CommitSizing, Event, EventStore, FailureLog, FailureRecord, Loaded, StoreError, StoredFailure,
};
#[cfg(doc)]
use handler_core::{Checkpoints, Correlations, EventFeed};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

/// Statements kept prepared per connection: more than the store has.
const STATEMENT_CACHE: usize = 64;

/// The SQLite event store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path`, and its
    /// parent directories. A file of another file format is refused.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::Io {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        let conn = Connection::open(path)?;
        Self::with_connection(conn, Some(path.to_path_buf()))
    }

    /// A store that lives in memory only (tests, one-off runs).
    pub fn in_memory() -> Result<Self, OpenError> {
        Self::with_connection(Connection::open_in_memory()?, None)
    }

    fn with_connection(conn: Connection, file: Option<PathBuf>) -> Result<Self, OpenError> {
        conn.busy_timeout(Duration::from_secs(10))?;
        // Every statement of the store stays prepared (rusqlite keeps 16 by
        // default, fewer than the store has).
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        schema::migrate(&conn, file)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::unavailable("store mutex poisoned"))
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn load(&self, key: &AggregateKey, command_ids: &[String]) -> Result<Loaded, StoreError> {
        let conn = self.conn()?;
        let head = conn
            .prepare_cached("SELECT state, version, data, alarms FROM heads WHERE pk = ?1")
            .and_then(|mut s| {
                s.query_row([key.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()
            })
            .map_err(unavailable)?
            .map(|(state, version, data, alarms)| {
                Ok::<_, StoreError>(AggregateState {
                    state,
                    version: version as u64,
                    data: from_json(&data)?,
                    alarms: alarms
                        .as_deref()
                        .map(from_text)
                        .transpose()?
                        .unwrap_or_default(),
                })
            })
            .transpose()?;
        if head.is_none() {
            // No event: no command can have been applied.
            return Ok(Loaded::default());
        }
        let mut commands = Vec::new();
        let mut stmt = conn.prepare_cached(COMMAND_LOOKUP).map_err(unavailable)?;
        for id in command_ids {
            let record = stmt
                .query_row(params![key.to_string(), id], |r| {
                    Ok(CommandRecord {
                        command_id: id.clone(),
                        key: key.clone(),
                        fingerprint: r.get(1)?,
                        version: r.get::<_, i64>(0)? as u64,
                    })
                })
                .optional()
                .map_err(unavailable)?;
            commands.extend(record);
        }
        Ok(Loaded { head, commands })
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        shape::check_shape(commit)?;
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let pk = commit.key.to_string();
        let current: u64 = tx
            .prepare_cached("SELECT version FROM heads WHERE pk = ?1")
            .and_then(|mut s| s.query_row([&pk], |r| r.get::<_, i64>(0)).optional())
            .map_err(unavailable)?
            .map_or(0, |v| v as u64);
        if current != commit.expected_version {
            return Err(AppendError::Conflict {
                key: commit.key.clone(),
                expected: commit.expected_version,
            });
        }
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (pk, aggregate_type, version, event_type, state, payload,
                                         command_id, metadata, recorded_at, config_version,
                                         fingerprint, data, alarms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                )
                .map_err(unavailable)?;
            for ((e, c), data) in commit
                .events
                .iter()
                .zip(&commit.commands)
                .zip(&commit.data_after)
            {
                insert
                    .execute(params![
                        pk,
                        commit.key.aggregate_type,
                        e.version as i64,
                        e.event_type,
                        e.state,
                        to_json(&e.payload),
                        e.command_id,
                        to_json(&e.metadata),
                        e.recorded_at,
                        e.config_version as i64,
                        c.fingerprint,
                        to_json(data),
                        e.alarms.as_ref().map(to_text).transpose()?,
                    ])
                    .map_err(|err| match err.sqlite_error_code() {
                        Some(ErrorCode::ConstraintViolation) => AppendError::Conflict {
                            key: commit.key.clone(),
                            expected: commit.expected_version,
                        },
                        _ => unavailable(err).into(),
                    })?;
                if let Some(changes) = &e.alarms {
                    alarms::apply(&tx, &commit.key, changes)?;
                }
            }
        }
        let head_alarms = (!commit.head.alarms.is_empty())
            .then(|| to_text(&commit.head.alarms))
            .transpose()?;
        tx.prepare_cached(
            "INSERT INTO heads (pk, aggregate_type, aggregate_id, state, version, data, alarms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (pk) DO UPDATE SET state = excluded.state, version = excluded.version,
                                            data = excluded.data, alarms = excluded.alarms",
        )
        .and_then(|mut upsert| {
            upsert.execute(params![
                pk,
                commit.key.aggregate_type,
                commit.key.aggregate_id,
                commit.head.state,
                commit.head.version as i64,
                to_json(&commit.head.data),
                head_alarms,
            ])
        })
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(())
    }

    async fn events(
        &self,
        key: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(EVENTS_AFTER).map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![key.to_string(), after_version as i64, limit as i64],
                EventRow::read,
            )
            .map_err(unavailable)?;
        rows.map(|row| row.map_err(unavailable)?.event()).collect()
    }

    /// The DynamoDB store's counting and limits (see the crate doc).
    fn sizing(&self) -> &dyn CommitSizing {
        &DynamoLayout
    }
}

#[async_trait]
impl FailureLog for SqliteStore {
    async fn record_failures(&self, failures: &[FailureRecord]) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(unavailable)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO failures (message_id, record, first_failed_at, failures)
                     VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (message_id) DO UPDATE SET record = excluded.record,
                                                            failures = failures + 1",
                )
                .map_err(unavailable)?;
            for f in failures {
                let record = serde_json::to_string(f).map_err(|e| {
                    StoreError::corrupt(format!("failure record: {e}")).with_source(e)
                })?;
                upsert
                    .execute(params![f.message_id, record, f.failed_at])
                    .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)
    }

    async fn failure(&self, message_id: &str) -> Result<Option<StoredFailure>, StoreError> {
        let conn = self.conn()?;
        let row = conn
            .query_row(
                "SELECT record, first_failed_at, failures FROM failures WHERE message_id = ?1",
                [message_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(unavailable)?;
        row.map(|(record, first_failed_at, failures)| {
            Ok(StoredFailure {
                last: serde_json::from_str(&record).map_err(|e| {
                    StoreError::corrupt(format!("failure record: {e}")).with_source(e)
                })?,
                first_failed_at,
                failures: failures as u64,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl AggregateIndex for SqliteStore {
    async fn list_aggregates(
        &self,
        aggregate_type: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AggregateSummary>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT aggregate_id, state, version FROM heads
                 WHERE aggregate_type = ?1 AND aggregate_id > ?2
                 ORDER BY aggregate_id LIMIT CAST(?3 AS INTEGER)",
            )
            .map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![aggregate_type, after.unwrap_or(""), limit as i64],
                |r| {
                    Ok(AggregateSummary {
                        aggregate_id: r.get(0)?,
                        state: r.get(1)?,
                        version: r.get::<_, i64>(2)? as u64,
                    })
                },
            )
            .map_err(unavailable)?;
        rows.collect::<Result<_, _>>().map_err(unavailable)
    }
}

/// A command id's event within its aggregate. `INDEXED BY`: left to
/// itself, SQLite serves the `ORDER BY version` from the `(pk, version)`
/// key and scans the aggregate's whole history for the id, which made every
/// command cost as much as the aggregate's length; through
/// `events_by_command` it is one seek, and the order is over the few rows
/// (at most one) that match.
const COMMAND_LOOKUP: &str = "SELECT version, fingerprint FROM events INDEXED BY events_by_command
                              WHERE pk = ?1 AND command_id = ?2 ORDER BY version LIMIT 1";

/// The columns an [`EventRow`] reads, in its order (a macro, so that the
/// statements reading them are constants).
macro_rules! event_columns {
    () => {
        "version, event_type, state, payload, command_id, metadata, recorded_at, config_version, alarms"
    };
}

/// The columns an [`EventRow`] reads, in its order.
const EVENT_COLUMNS: &str = event_columns!();

// Every `LIMIT` bound as a parameter is written `LIMIT CAST(?N AS INTEGER)`.
// With a bare `LIMIT ?N`, this SQLite expires the compiled statement
// whenever the parameter is bound, so each call compiled it again (counted
// by `StatementStatus::RePrepare`; about 6% of the HTTP server's time under
// load); as an expression, the limit is read at run time and the compiled
// statement is kept. The value, an integer, is the same.

/// An aggregate's events after a version, oldest first.
const EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM events WHERE pk = ?1 AND version > ?2 ORDER BY version LIMIT CAST(?3 AS INTEGER)"
);

/// One event's columns as stored (JSON still text).
struct EventRow {
    version: i64,
    event_type: String,
    state: String,
    payload: String,
    command_id: String,
    metadata: String,
    recorded_at: String,
    config_version: i64,
    alarms: Option<String>,
}

impl EventRow {
    /// The [`EVENT_COLUMNS`] at the start of a row.
    fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            version: r.get(0)?,
            event_type: r.get(1)?,
            state: r.get(2)?,
            payload: r.get(3)?,
            command_id: r.get(4)?,
            metadata: r.get(5)?,
            recorded_at: r.get(6)?,
            config_version: r.get(7)?,
            alarms: r.get(8)?,
        })
    }

    fn event(self) -> Result<Event, StoreError> {
        Ok(Event {
            version: self.version as u64,
            event_type: self.event_type,
            state: self.state,
            payload: from_json(&self.payload)?,
            command_id: self.command_id,
            metadata: from_json(&self.metadata)?,
            recorded_at: self.recorded_at,
            config_version: self.config_version as u64,
            alarms: self.alarms.as_deref().map(from_text).transpose()?,
        })
    }
}

fn unavailable(e: rusqlite::Error) -> StoreError {
    StoreError::unavailable(format!("sqlite: {e}")).with_source(e)
}

fn to_json(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(map.clone()).to_string()
}

fn from_json(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    from_text(text)
}

/// A value as the JSON text of a column.
fn to_text(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::corrupt(format!("JSON to store: {e}")).with_source(e))
}

/// A column's JSON text back as a value.
fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::corrupt(format!("stored JSON: {e}")).with_source(e))
}

#[cfg(test)]
mod tests;
