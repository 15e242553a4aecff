//! The event-store conformance suite, on the embedded SQLite store.

use store_sqlite::SqliteStore;

testkit::event_store_conformance!(
    in_memory,
    async { SqliteStore::in_memory().expect("in-memory SQLite") },
    history = 10_000
);

testkit::event_store_conformance!(
    on_disk,
    async {
        let dir = tempfile::tempdir().expect("tempdir");
        // The directory must outlive the store: leak it for the test's life.
        let path = dir.keep().join("events.sqlite3");
        SqliteStore::open(path).expect("SQLite file")
    },
    history = 1_000
);
