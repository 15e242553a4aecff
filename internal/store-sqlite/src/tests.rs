//! Opening files: a new one, and one of an older layout.

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
