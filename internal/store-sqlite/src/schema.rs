//! The tables: `events` (one row per event, keyed like the DynamoDB items),
//! `heads` (one row per aggregate: its current state, the snapshot) and
//! `commands` (one idempotency record per applied command id) and `failures`
//! (the latest failure of each failed message id, as JSON, with a count).

use rusqlite::Connection;

pub(crate) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         CREATE TABLE IF NOT EXISTS events (
             pk TEXT NOT NULL,
             version INTEGER NOT NULL CHECK (version >= 1),
             event_type TEXT NOT NULL,
             state TEXT NOT NULL,
             payload TEXT NOT NULL,
             command_id TEXT NOT NULL,
             metadata TEXT NOT NULL,
             recorded_at TEXT NOT NULL,
             config_version INTEGER NOT NULL,
             PRIMARY KEY (pk, version)
         ) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS heads (
             pk TEXT PRIMARY KEY,
             aggregate_type TEXT NOT NULL,
             aggregate_id TEXT NOT NULL,
             state TEXT NOT NULL,
             version INTEGER NOT NULL,
             data TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS heads_by_type ON heads (aggregate_type, aggregate_id);
         CREATE TABLE IF NOT EXISTS failures (
             message_id TEXT PRIMARY KEY,
             record TEXT NOT NULL,
             first_failed_at TEXT NOT NULL,
             failures INTEGER NOT NULL
         );
         CREATE TABLE IF NOT EXISTS commands (
             command_id TEXT PRIMARY KEY,
             aggregate_type TEXT NOT NULL,
             aggregate_id TEXT NOT NULL,
             fingerprint TEXT NOT NULL,
             version INTEGER NOT NULL,
             recorded_at TEXT NOT NULL
         );",
    )
}
