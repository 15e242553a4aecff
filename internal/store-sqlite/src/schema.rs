//! The tables: `events` (one row per event, keyed like the DynamoDB items,
//! with its command's fingerprint and the aggregate's data after it; found by
//! command id within its aggregate through `events_by_command`; numbered by
//! `seq`, assigned in the append's transaction, which is the cursor of the
//! event feed), `heads` (one row per aggregate: its current state, the
//! snapshot read in one query), `failures` (the latest failure of each
//! failed message id, as JSON, with a count), `checkpoints` (the cursor
//! each named processor has finished), `pending_alarms` (the alarms set
//! and not yet fired: `alarms`) and `pending_reactions` (the reactions built
//! and not yet brought to a final outcome: `reactions`; added to a file of
//! format 4 at open, as it only adds a table). An event's alarm changes are kept in
//! `events.alarms`, the head's alarms in `heads.alarms` (JSON, NULL when
//! none).
//!
//! The file format's number is kept in `PRAGMA user_version`
//! ([`FILE_FORMAT`]; "file format", so that it is never confused with the
//! DynamoDB table layout of docs/cost.md). A file of an older format
//! (file format 3: no alarms; file format 2: no sequence over the events;
//! before it: a global `commands` table of idempotency records) is refused,
//! never converted: it holds local data only.

use std::path::PathBuf;

use rusqlite::Connection;

/// This build's file format, in `PRAGMA user_version`.
pub(crate) const FILE_FORMAT: i64 = 4;

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file holds a store of another file format. Permanent until it
    /// is deleted.
    #[error(
        "{}: an event store of another file format (file format {found}; this build reads file format {FILE_FORMAT}, \
         where the events are numbered in order for the event processor and alarms are kept). It \
         holds local data only: delete the file to start a new store",
        file.display()
    )]
    OtherFileFormat {
        /// The file.
        file: PathBuf,
        /// Its file format (0: before formats were numbered).
        found: i64,
    },
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file's directory could not be made.
    #[error("{}: {source}", dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Creates the tables in a new store, or checks that an existing one has
/// this file format. `file` names the store in the error (`None`: in memory).
pub(crate) fn migrate(conn: &Connection, file: Option<PathBuf>) -> Result<(), OpenError> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;",
    )?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let tables: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if found != FILE_FORMAT && tables > 0 {
        return Err(OpenError::OtherFileFormat {
            file: file.unwrap_or_else(|| PathBuf::from(":memory:")),
            found,
        });
    }
    conn.execute_batch(&format!(
        "BEGIN;
         CREATE TABLE IF NOT EXISTS events (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             pk TEXT NOT NULL,
             aggregate_type TEXT NOT NULL,
             version INTEGER NOT NULL CHECK (version >= 1),
             event_type TEXT NOT NULL,
             state TEXT NOT NULL,
             payload TEXT NOT NULL,
             command_id TEXT NOT NULL,
             metadata TEXT NOT NULL,
             recorded_at TEXT NOT NULL,
             config_version INTEGER NOT NULL,
             fingerprint TEXT NOT NULL,
             data TEXT NOT NULL,
             alarms TEXT,
             UNIQUE (pk, version)
         );
         CREATE INDEX IF NOT EXISTS events_by_command ON events (pk, command_id);
         CREATE INDEX IF NOT EXISTS events_by_type ON events (aggregate_type, seq);
         CREATE TABLE IF NOT EXISTS heads (
             pk TEXT PRIMARY KEY,
             aggregate_type TEXT NOT NULL,
             aggregate_id TEXT NOT NULL,
             state TEXT NOT NULL,
             version INTEGER NOT NULL,
             data TEXT NOT NULL,
             alarms TEXT
         );
         CREATE INDEX IF NOT EXISTS heads_by_type ON heads (aggregate_type, aggregate_id);
         CREATE TABLE IF NOT EXISTS failures (
             message_id TEXT PRIMARY KEY,
             record TEXT NOT NULL,
             first_failed_at TEXT NOT NULL,
             failures INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS checkpoints (
             name TEXT PRIMARY KEY,
             cursor TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS pending_alarms (
             pk TEXT NOT NULL,
             aggregate_type TEXT NOT NULL,
             aggregate_id TEXT NOT NULL,
             name TEXT NOT NULL,
             version INTEGER NOT NULL,
             due INTEGER NOT NULL,
             alarm TEXT NOT NULL,
             PRIMARY KEY (pk, name)
         );
         CREATE INDEX IF NOT EXISTS pending_alarms_by_due ON pending_alarms (due);
         CREATE TABLE IF NOT EXISTS pending_reactions (
             seq INTEGER PRIMARY KEY AUTOINCREMENT,
             command_id TEXT NOT NULL UNIQUE,
             body TEXT NOT NULL
         );
         PRAGMA user_version = {FILE_FORMAT};
         COMMIT;"
    ))?;
    Ok(())
}
