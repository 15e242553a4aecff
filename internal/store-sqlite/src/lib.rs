//! The embedded [`EventStore`]: one SQLite file (or memory), so the handler
//! runs on a laptop with no AWS. It keeps the DynamoDB store's semantics:
//! a head row per aggregate read in one query, idempotency per aggregate
//! (each event row holds its command's id and fingerprint, found by id within
//! the aggregate), and each [`Commit`] (events, head) written in one
//! transaction that fails as a whole on a stale version.
//!
//! A file of another layout (an older build's) is refused at open with
//! [`OpenError::OtherLayout`], which names the file: it holds local data only,
//! and is deleted rather than converted.
//!
//! It counts and limits commits as the DynamoDB store does
//! (`dynamodb-layout`'s item sizes, 100 items and 4 MB per append, 400 KB per
//! item), although SQLite could take more: what runs locally must not be
//! refused as `too_large` once deployed.
//!
//! It depends on `handler-core` for the traits, `dynamodb-layout` for those
//! sizes, and `rusqlite` (bundled SQLite); nothing else. Calls run on the
//! caller's task under a mutex: the work is local and short.
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

mod schema;

pub use schema::OpenError;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use dynamodb_layout::{DynamoLayout, LIMITS};
use handler_core::state_machine::AggregateState;
use handler_core::{
    AggregateIndex, AggregateKey, AggregateSummary, AppendError, CommandRecord, Commit,
    CommitSizing, Event, EventStore, FailureLog, FailureRecord, Loaded, StoreError, StoredFailure,
};
use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

/// The SQLite event store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the file at `path`, and its
    /// parent directories. A file of another layout is refused.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| OpenError::Io(format!("{}: {e}", dir.display())))?;
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
        schema::migrate(&conn, file)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Unavailable("store mutex poisoned".into()))
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn load(&self, key: &AggregateKey, command_ids: &[String]) -> Result<Loaded, StoreError> {
        let conn = self.conn()?;
        let head = conn
            .prepare_cached("SELECT state, version, data FROM heads WHERE pk = ?1")
            .and_then(|mut s| {
                s.query_row([key.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .optional()
            })
            .map_err(|e| unavailable(&e))?
            .map(|(state, version, data)| {
                Ok::<_, StoreError>(AggregateState {
                    state,
                    version: version as u64,
                    data: from_json(&data)?,
                })
            })
            .transpose()?;
        if head.is_none() {
            // No event: no command can have been applied.
            return Ok(Loaded::default());
        }
        let mut commands = Vec::new();
        let mut stmt = conn
            .prepare_cached(
                "SELECT version, fingerprint FROM events WHERE pk = ?1 AND command_id = ?2
                 ORDER BY version LIMIT 1",
            )
            .map_err(|e| unavailable(&e))?;
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
                .map_err(|e| unavailable(&e))?;
            commands.extend(record);
        }
        Ok(Loaded { head, commands })
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        check_shape(commit)?;
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| unavailable(&e))?;
        let pk = commit.key.to_string();
        let current: u64 = tx
            .query_row("SELECT version FROM heads WHERE pk = ?1", [&pk], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(|e| unavailable(&e))?
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
                    "INSERT INTO events (pk, version, event_type, state, payload, command_id,
                                         metadata, recorded_at, config_version, fingerprint)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(|e| unavailable(&e))?;
            for (e, c) in commit.events.iter().zip(&commit.commands) {
                insert
                    .execute(params![
                        pk,
                        e.version as i64,
                        e.event_type,
                        e.state,
                        to_json(&e.payload),
                        e.command_id,
                        to_json(&e.metadata),
                        e.recorded_at,
                        e.config_version as i64,
                        c.fingerprint,
                    ])
                    .map_err(|err| match err.sqlite_error_code() {
                        Some(ErrorCode::ConstraintViolation) => AppendError::Conflict {
                            key: commit.key.clone(),
                            expected: commit.expected_version,
                        },
                        _ => unavailable(&err).into(),
                    })?;
            }
        }
        tx.execute(
            "INSERT INTO heads (pk, aggregate_type, aggregate_id, state, version, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (pk) DO UPDATE SET state = excluded.state, version = excluded.version,
                                            data = excluded.data",
            params![
                pk,
                commit.key.aggregate_type,
                commit.key.aggregate_id,
                commit.head.state,
                commit.head.version as i64,
                to_json(&commit.head.data),
            ],
        )
        .map_err(|e| unavailable(&e))?;
        tx.commit().map_err(|e| unavailable(&e))?;
        Ok(())
    }

    async fn events(
        &self,
        key: &AggregateKey,
        after_version: u64,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT version, event_type, state, payload, command_id, metadata, recorded_at,
                        config_version
                 FROM events WHERE pk = ?1 AND version > ?2 ORDER BY version LIMIT ?3",
            )
            .map_err(|e| unavailable(&e))?;
        let rows = stmt
            .query_map(
                params![key.to_string(), after_version as i64, limit as i64],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, i64>(7)?,
                    ))
                },
            )
            .map_err(|e| unavailable(&e))?;
        rows.map(|row| {
            let (version, event_type, state, payload, command_id, metadata, recorded_at, cv) =
                row.map_err(|e| unavailable(&e))?;
            Ok(Event {
                version: version as u64,
                event_type,
                state,
                payload: from_json(&payload)?,
                command_id,
                metadata: from_json(&metadata)?,
                recorded_at,
                config_version: cv as u64,
            })
        })
        .collect()
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
        let tx = conn.transaction().map_err(|e| unavailable(&e))?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO failures (message_id, record, first_failed_at, failures)
                     VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (message_id) DO UPDATE SET record = excluded.record,
                                                            failures = failures + 1",
                )
                .map_err(|e| unavailable(&e))?;
            for f in failures {
                let record = serde_json::to_string(f)
                    .map_err(|e| StoreError::Corrupt(format!("failure record: {e}")))?;
                upsert
                    .execute(params![f.message_id, record, f.failed_at])
                    .map_err(|e| unavailable(&e))?;
            }
        }
        tx.commit().map_err(|e| unavailable(&e))
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
            .map_err(|e| unavailable(&e))?;
        row.map(|(record, first_failed_at, failures)| {
            Ok(StoredFailure {
                last: serde_json::from_str(&record)
                    .map_err(|e| StoreError::Corrupt(format!("failure record: {e}")))?,
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
                 ORDER BY aggregate_id LIMIT ?3",
            )
            .map_err(|e| unavailable(&e))?;
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
            .map_err(|e| unavailable(&e))?;
        rows.collect::<Result<_, _>>().map_err(|e| unavailable(&e))
    }
}

/// Refuses a commit that breaks the trait's rules before touching the file:
/// over DynamoDB's limits by the DynamoDB store's counting, or not a gapless
/// continuation with one record and one state per event.
fn check_shape(commit: &Commit) -> Result<(), AppendError> {
    let limits = LIMITS;
    let n = commit.events.len();
    let gapless = commit
        .events
        .iter()
        .enumerate()
        .all(|(i, e)| e.version == commit.expected_version + 1 + i as u64);
    if n == 0
        || !gapless
        || commit.head.version != commit.new_version()
        || commit.commands.len() != n
        || commit.data_after.len() != n
    {
        return Err(AppendError::Store(StoreError::Corrupt(format!(
            "commit for {} does not continue version {} gaplessly with one record and one \
             state per event",
            commit.key, commit.expected_version
        ))));
    }
    let mut size = DynamoLayout.commit(&commit.key, commit.expected_version, &commit.head);
    for ((event, record), data) in commit
        .events
        .iter()
        .zip(&commit.commands)
        .zip(&commit.data_after)
    {
        let after = AggregateState {
            state: event.state.clone(),
            version: event.version,
            data: data.clone(),
        };
        let added = DynamoLayout.command(&commit.key, event, record, &after);
        if added.largest_item > limits.max_item_bytes {
            return Err(AppendError::TooLarge(format!(
                "event {} of {} is over the {}-byte item limit",
                event.version, commit.key, limits.max_item_bytes
            )));
        }
        size = size + added;
    }
    if size.items > limits.max_items_per_commit {
        return Err(AppendError::TooLarge(format!(
            "{} items in one append, over the limit of {}",
            size.items, limits.max_items_per_commit
        )));
    }
    if size.bytes > limits.max_commit_bytes {
        return Err(AppendError::TooLarge(format!(
            "about {} bytes in one append, over the limit of {}",
            size.bytes, limits.max_commit_bytes
        )));
    }
    Ok(())
}

fn unavailable(e: &rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

fn to_json(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::Value::Object(map.clone()).to_string()
}

fn from_json(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh path in the temp directory, removed with its WAL files on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str) -> Self {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos();
            Self(std::env::temp_dir().join(format!(
                "store-sqlite-{name}-{}-{nanos}.sqlite3",
                std::process::id()
            )))
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut path = self.0.clone().into_os_string();
                path.push(suffix);
                let _ = std::fs::remove_file(path);
            }
        }
    }

    #[test]
    fn a_file_of_the_older_layout_is_refused_by_name() {
        let file = TempFile::new("old-layout");
        {
            // What an older build left: a global table of command records.
            let conn = Connection::open(&file.0).expect("open");
            conn.execute_batch(
                "CREATE TABLE events (pk TEXT NOT NULL, version INTEGER NOT NULL,
                     event_type TEXT NOT NULL, state TEXT NOT NULL, payload TEXT NOT NULL,
                     command_id TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at TEXT NOT NULL,
                     config_version INTEGER NOT NULL, PRIMARY KEY (pk, version)) WITHOUT ROWID;
                 CREATE TABLE commands (command_id TEXT PRIMARY KEY, aggregate_type TEXT NOT NULL,
                     aggregate_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
                     version INTEGER NOT NULL, recorded_at TEXT NOT NULL);
                 INSERT INTO commands VALUES ('c-1', 'order', 'o-1', 'fp', 1, 'now');",
            )
            .expect("old schema");
        }
        let err = SqliteStore::open(&file.0).expect_err("an older file must be refused");
        assert!(
            matches!(&err, OpenError::OtherLayout { file: f, found: 0 } if *f == file.0),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(&file.0.display().to_string()), "{text}");
        assert!(text.contains("delete the file"), "{text}");
        // Nothing was changed: the old table is still there, unconverted.
        let conn = Connection::open(&file.0).expect("open");
        let kept: i64 = conn
            .query_row("SELECT count(*) FROM commands", [], |r| r.get(0))
            .expect("the old table");
        assert_eq!(kept, 1);
    }

    #[test]
    fn a_new_file_opens_again() {
        let file = TempFile::new("fresh");
        drop(SqliteStore::open(&file.0).expect("create"));
        SqliteStore::open(&file.0).expect("open again");
    }
}
