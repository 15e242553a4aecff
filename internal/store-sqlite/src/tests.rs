//! Opening files (a new one, one of an older file format) and the feed over later appends.

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
fn a_file_of_an_older_file_format_is_refused_by_name() {
    let file = TempFile::new("old-format");
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
        matches!(&err, OpenError::OtherFileFormat { file: f, found: 0 } if *f == file.0),
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

/// File format 2 (events without a sequence) and file format 3 (no alarms)
/// are both refused with the same message, naming the file format this
/// build reads.
#[test]
fn files_of_formats_2_and_3_are_refused() {
    for format in [2_i64, 3] {
        let file = TempFile::new(&format!("format-{format}"));
        {
            let conn = Connection::open(&file.0).expect("open");
            conn.execute_batch(&format!(
                "CREATE TABLE events (pk TEXT NOT NULL, version INTEGER NOT NULL,
                     PRIMARY KEY (pk, version)) WITHOUT ROWID;
                 PRAGMA user_version = {format};"
            ))
            .expect("older schema");
        }
        let err = SqliteStore::open(&file.0).expect_err("an older file format must be refused");
        assert!(
            matches!(&err, OpenError::OtherFileFormat { found, .. } if *found == format),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("this build reads file format 4"), "{text}");
        assert!(text.contains("delete the file"), "{text}");
    }
}

/// The feed follows appends: a read after the last cursor finds what was
/// appended since, in append order across aggregates.
#[test]
fn the_feed_sees_later_appends_in_append_order() {
    use handler_core::{EventFeed, FeedQuery};
    use one_event::commit;

    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(async {
            let store = SqliteStore::in_memory().expect("store");
            let all = FeedQuery::default();
            let a = AggregateKey::new("order", "a");
            let b = AggregateKey::new("order", "b");
            store.append(&commit(&a, 0)).await.expect("append");
            let first = store.read(&all, None, 10).await.expect("read");
            assert_eq!(first.events.len(), 1);
            assert!(!first.more);
            store.append(&commit(&b, 0)).await.expect("append");
            store.append(&commit(&a, 1)).await.expect("append");
            let next = store
                .read(&all, first.cursor.as_deref(), 10)
                .await
                .expect("read");
            let order: Vec<(String, u64)> = next
                .events
                .iter()
                .map(|e| (e.key.aggregate_id.clone(), e.event.version))
                .collect();
            assert_eq!(order, [("b".to_owned(), 1), ("a".to_owned(), 2)]);
            let err = store
                .read(&all, Some("x"), 1)
                .await
                .expect_err("bad cursor");
            assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
        });
}

/// A one-event commit, enough for the feed tests.
pub(crate) mod one_event {
    use handler_core::state_machine::AggregateState;
    use handler_core::{AggregateKey, CommandRecord, Commit, Event};
    use serde_json::Map;

    pub(crate) fn commit(key: &AggregateKey, expected_version: u64) -> Commit {
        let version = expected_version + 1;
        let event = Event {
            alarms: None,
            version,
            event_type: "Happened".into(),
            state: "S".into(),
            payload: Map::new(),
            command_id: format!("c-{version}"),
            metadata: Map::new(),
            recorded_at: "2026-11-30T00:00:00.000Z".into(),
            config_version: 1,
        };
        Commit {
            key: key.clone(),
            expected_version,
            commands: vec![CommandRecord {
                command_id: event.command_id.clone(),
                key: key.clone(),
                fingerprint: "fp".into(),
                version,
            }],
            events: vec![event],
            data_after: vec![Map::new()],
            head: AggregateState {
                alarms: Default::default(),
                state: "S".into(),
                version,
                data: Map::new(),
            },
        }
    }
}

/// SQLite's and JSON's errors are kept as the source of the store's,
/// not only quoted in its text.
#[test]
fn the_store_keeps_the_error_it_met_as_the_source() {
    use std::error::Error as _;

    let err = from_text::<serde_json::Value>("{not json").expect_err("not JSON");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    let source = err.source().expect("the JSON error as the source");
    assert!(source.downcast_ref::<handler_core::Cause>().is_some());
    let cause = handler_core::Cause::get(source.downcast_ref().unwrap());
    assert!(
        cause.downcast_ref::<serde_json::Error>().is_some(),
        "{cause:?}"
    );

    let err = unavailable(rusqlite::Error::InvalidQuery);
    let source = err.source().expect("SQLite's error as the source");
    assert_eq!(
        source.to_string(),
        rusqlite::Error::InvalidQuery.to_string()
    );

    // A directory that cannot be made: the I/O error is the source.
    let file = TempFile::new("not-a-dir");
    std::fs::write(&file.0, "a file").unwrap();
    let err = SqliteStore::open(file.0.join("store.sqlite3")).expect_err("a file as a directory");
    assert!(matches!(err, OpenError::Io { .. }), "{err:?}");
    assert!(
        err.source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some(),
        "{err:?}"
    );
}

/// The command lookup is a seek on `events_by_command`, never a walk of the
/// aggregate's history (which SQLite would choose for the `ORDER BY`).
#[test]
fn a_command_id_is_found_through_its_index() {
    let store = SqliteStore::in_memory().expect("a store");
    let conn = store.conn().expect("the connection");
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {COMMAND_LOOKUP}"))
        .and_then(|mut s| {
            s.query_map(params!["order#o-1", "c-1"], |r| r.get::<_, String>(3))?
                .collect()
        })
        .expect("a plan");
    // Then a sort of what matched (at most one row).
    assert_eq!(
        plan,
        vec![
            "SEARCH events USING INDEX events_by_command (pk=? AND command_id=?)",
            "USE TEMP B-TREE FOR ORDER BY"
        ],
        "{plan:?}"
    );
}

/// A statement with a bound `LIMIT` is compiled once, not on every call
/// (the note above [`EVENTS_AFTER`]); the events' read is the one every
/// answer of the HTTP API makes.
#[test]
fn the_events_read_is_not_compiled_again_on_every_call() {
    let store = SqliteStore::in_memory().expect("a store");
    let key = AggregateKey::new("order", "o-1");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        for version in 0..3 {
            store
                .append(&one_event::commit(&key, version))
                .await
                .expect("appended");
        }
        for (after, limit) in [(0, 1), (1, 2), (2, 100)] {
            store.events(&key, after, limit).await.expect("read");
        }
    });
    let conn = store.conn().expect("the connection");
    let cached = conn
        .prepare_cached(EVENTS_AFTER)
        .expect("the cached statement");
    assert_eq!(cached.get_status(rusqlite::StatementStatus::RePrepare), 0);
    // What it avoids: a plain bound LIMIT is compiled again at each call.
    let mut plain = conn
        .prepare("SELECT version FROM events WHERE pk = ?1 ORDER BY version LIMIT ?2")
        .expect("prepared");
    for limit in [1, 2] {
        plain
            .query_map(params!["order#o-1", limit], |r| r.get::<_, i64>(0))
            .expect("read")
            .for_each(drop);
    }
    assert_eq!(plain.get_status(rusqlite::StatementStatus::RePrepare), 2);
}
