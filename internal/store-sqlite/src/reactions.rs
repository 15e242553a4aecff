//! The embedded store's pending reactions (docs/event-processor.md,
//! "Locally"): the `pending_reactions` table, one row per reaction the local
//! event processor has built and not yet brought to a final outcome (its
//! command id and its message body, in the order kept). The local run keeps
//! an event's reactions here before its checkpoint moves past the event
//! ([`SqliteStore::keep_reactions`]), runs them from here
//! ([`SqliteStore::pending_reactions`]) and removes each once its outcome is
//! final ([`SqliteStore::reaction_done`]): one that failed transiently stays
//! for the next run, as a pending alarm does.

use handler_core::StoreError;
use rusqlite::params;

use crate::{SqliteStore, unavailable};

/// A reaction kept until its outcome is final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReaction {
    /// The reaction's deterministic command id (the message id it runs as).
    pub command_id: String,
    /// Its message body (docs/reference.md §1).
    pub body: String,
}

impl SqliteStore {
    /// Keeps `reactions` (in order) until each is done; a command id already
    /// kept is left as it is. All or none.
    pub fn keep_reactions(&self, reactions: &[PendingReaction]) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(unavailable)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO pending_reactions (command_id, body) VALUES (?1, ?2)
                     ON CONFLICT (command_id) DO NOTHING",
                )
                .map_err(unavailable)?;
            for reaction in reactions {
                insert
                    .execute(params![reaction.command_id, reaction.body])
                    .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)
    }

    /// Up to `limit` pending reactions, in the order kept, skipping those
    /// for which `skip` is true (the ones a run has left for the next).
    pub fn pending_reactions(
        &self,
        limit: usize,
        skip: impl Fn(&str) -> bool,
    ) -> Result<Vec<PendingReaction>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached("SELECT command_id, body FROM pending_reactions ORDER BY seq")
            .map_err(unavailable)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PendingReaction {
                    command_id: r.get(0)?,
                    body: r.get(1)?,
                })
            })
            .map_err(unavailable)?;
        let mut out = Vec::new();
        for row in rows {
            let row = row.map_err(unavailable)?;
            if skip(&row.command_id) {
                continue;
            }
            out.push(row);
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// How many reactions are pending.
    pub fn pending_reaction_count(&self) -> Result<usize, StoreError> {
        let conn = self.conn()?;
        conn.query_row("SELECT count(*) FROM pending_reactions", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| usize::try_from(n).unwrap_or(0))
        .map_err(unavailable)
    }

    /// Removes the pending reaction `command_id` once its outcome is final
    /// (applied, duplicate or refused). Removing nothing is not an error.
    pub fn reaction_done(&self, command_id: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM pending_reactions WHERE command_id = ?1",
            params![command_id],
        )
        .map(|_| ())
        .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::PendingReaction;
    use crate::SqliteStore;

    fn reaction(id: &str) -> PendingReaction {
        PendingReaction {
            command_id: id.to_owned(),
            body: format!("{{\"commandId\":\"{id}\"}}"),
        }
    }

    fn ids(store: &SqliteStore, skip: &[&str]) -> Vec<String> {
        store
            .pending_reactions(10, |id| skip.contains(&id))
            .expect("pending")
            .into_iter()
            .map(|r| r.command_id)
            .collect()
    }

    #[test]
    fn kept_in_order_once_until_done() {
        let store = SqliteStore::in_memory().expect("store");
        store
            .keep_reactions(&[reaction("a"), reaction("b")])
            .expect("keep");
        // Kept again (an event processed twice): still once, in the first order.
        store
            .keep_reactions(&[reaction("c"), reaction("a")])
            .expect("keep");
        assert_eq!(ids(&store, &[]), ["a", "b", "c"]);
        assert_eq!(ids(&store, &["b"]), ["a", "c"]);
        assert_eq!(store.pending_reaction_count().expect("count"), 3);
        store.reaction_done("a").expect("done");
        store.reaction_done("missing").expect("nothing to remove");
        assert_eq!(ids(&store, &[]), ["b", "c"]);
        assert_eq!(
            store.pending_reactions(1, |_| false).expect("pending"),
            [reaction("b")]
        );
    }

    #[test]
    fn survive_a_reopen() {
        let dir = tempfile_dir();
        let path = dir.join("store.db");
        {
            let store = SqliteStore::open(&path).expect("open");
            store.keep_reactions(&[reaction("a")]).expect("keep");
        }
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(ids(&store, &[]), ["a"]);
        std::fs::remove_dir_all(&dir).ok();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "store-sqlite-reactions-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
