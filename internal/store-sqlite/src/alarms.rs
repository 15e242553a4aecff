//! The embedded store's pending alarms (docs/alarms.md, "Locally"): the
//! `pending_alarms` table, one row per alarm an aggregate has set (its key,
//! name and setting version, its due time in Unix seconds, the whole alarm
//! as JSON), kept in the append's transaction from each event's alarm
//! changes (cleared rows deleted, set ones inserted); what is due
//! ([`SqliteStore::due_alarms`]) and a fired alarm's row removed once it has
//! been handled ([`SqliteStore::alarm_delivered`]).
//!
//! The rows follow the events, not the head: an alarm delivered with no
//! effect (`stale` because its command no longer applies) stays in the
//! aggregate's state but is not fired again.

use handler_core::state_machine::{Alarm, AlarmChanges};
use handler_core::{AggregateKey, StoreError};
use rusqlite::{Transaction, params};

use crate::{SqliteStore, unavailable};

/// Applies one event's alarm changes to the pending alarms of `pk`, in the
/// append's transaction: the cleared entries first (only the row set by the
/// same version), then the set ones (replacing any row of the same name).
pub(crate) fn apply(
    tx: &Transaction<'_>,
    key: &AggregateKey,
    changes: &AlarmChanges,
) -> Result<(), StoreError> {
    let pk = key.to_string();
    let mut delete = tx
        .prepare_cached("DELETE FROM pending_alarms WHERE pk = ?1 AND name = ?2 AND version = ?3")
        .map_err(unavailable)?;
    for alarm in &changes.cleared {
        delete
            .execute(params![pk, alarm.name, alarm.version as i64])
            .map_err(unavailable)?;
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO pending_alarms (pk, aggregate_type, aggregate_id, name, version, due,
                                         alarm)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (pk, name) DO UPDATE SET version = excluded.version,
                 due = excluded.due, alarm = excluded.alarm",
        )
        .map_err(unavailable)?;
    for alarm in &changes.set {
        insert
            .execute(params![
                pk,
                key.aggregate_type,
                key.aggregate_id,
                alarm.name,
                alarm.version as i64,
                alarm.due.as_second(),
                alarm_json(alarm)?,
            ])
            .map_err(unavailable)?;
    }
    Ok(())
}

fn alarm_json(alarm: &Alarm) -> Result<String, StoreError> {
    serde_json::to_string(alarm)
        .map_err(|e| StoreError::corrupt(format!("alarm: {e}")).with_source(e))
}

impl SqliteStore {
    /// Up to `limit` pending alarms due at or before `now`, earliest first
    /// (then by aggregate and name), each with its aggregate.
    pub fn due_alarms(
        &self,
        now: handler_core::state_machine::Timestamp,
        limit: usize,
    ) -> Result<Vec<(AggregateKey, Alarm)>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(
                "SELECT aggregate_type, aggregate_id, alarm FROM pending_alarms
                 WHERE due <= ?1 ORDER BY due, pk, name LIMIT CAST(?2 AS INTEGER)",
            )
            .map_err(unavailable)?;
        let rows = stmt
            .query_map(
                params![now.as_second(), i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .map_err(unavailable)?;
        rows.map(|row| {
            let (aggregate_type, aggregate_id, alarm) = row.map_err(unavailable)?;
            let alarm: Alarm = serde_json::from_str(&alarm)
                .map_err(|e| StoreError::corrupt(format!("pending alarm: {e}")).with_source(e))?;
            Ok((AggregateKey::new(&aggregate_type, &aggregate_id), alarm))
        })
        .collect()
    }

    /// Removes the pending alarm `name` of `key` set by `version`, once its
    /// firing has been handled (applied, duplicate, stale or refused). A row
    /// set since by another version stays. Removing nothing is not an error.
    pub fn alarm_delivered(
        &self,
        key: &AggregateKey,
        name: &str,
        version: u64,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "DELETE FROM pending_alarms WHERE pk = ?1 AND name = ?2 AND version = ?3",
            params![key.to_string(), name, version as i64],
        )
        .map(|_| ())
        .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests;
