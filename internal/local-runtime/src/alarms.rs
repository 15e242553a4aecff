//! Firing the embedded store's due alarms (docs/alarms.md, "Locally"): each
//! alarm due by the handler's clock is sent as the command
//! `state_machine::alarm_command` builds (the one every path sends), through
//! the same handler as the reactions; once its outcome is final (applied,
//! duplicate, stale or refused) it is marked delivered, so it does not fire
//! again. One that failed transiently (after the retries the runtime
//! makes) stays pending for the next run and is not fired again in this one.

use std::collections::{HashMap, HashSet};
use std::fmt;

use handler_core::state_machine::{Alarm, Timestamp, alarm_command};
use handler_core::{AggregateKey, MessageOutcome};
use serde::Serialize;
use store_sqlite::SqliteStore;

use crate::commands::run_commands;
use crate::error::RuntimeError;
use crate::outcome;
use crate::report::Notice;
use crate::runtime::LocalHandler;

/// Alarms read per round (fired 10 to a batch).
const DUE_PER_ROUND: usize = 100;

/// An alarm left for the next run in this one: aggregate, name, version.
pub(crate) type GivenUp = HashSet<(String, String, u64)>;

/// One alarm fired.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fired {
    /// `type#id`.
    pub aggregate: String,
    /// The alarm's name.
    pub alarm: String,
    /// The version that set it.
    pub version: u64,
    /// When it was due (RFC 3339).
    pub due: String,
    /// The command it sent.
    pub command: String,
    /// `applied`, `duplicate`, `stale`, `rejected` or `failed`.
    pub outcome: &'static str,
    /// The outcome's line (`applied v2`, `stale v3: why`, ...).
    pub detail: String,
}

/// `alarm payment#o-1 payment-timeout (v1, due ...): TimeOutCharge applied v2`.
impl fmt::Display for Fired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "alarm {} {} (v{}, due {}): {} {}",
            self.aggregate, self.alarm, self.version, self.due, self.command, self.detail
        )
    }
}

/// Fires the alarms due by `now` (but those given up on in this run) and
/// marks each delivered once its outcome is final; returns them with their
/// outcomes, earliest due first. One left for the next run is noticed.
pub(crate) async fn fire_due(
    handler: &LocalHandler,
    store: &SqliteStore,
    now: Timestamp,
    given_up: &mut GivenUp,
    notices: &mut Vec<Notice>,
) -> Result<Vec<(Fired, MessageOutcome)>, RuntimeError> {
    let due: Vec<(AggregateKey, Alarm)> = store
        .due_alarms(now, DUE_PER_ROUND + given_up.len())
        .map_err(|source| RuntimeError::Alarms {
            action: "read",
            source,
        })?
        .into_iter()
        .filter(|(key, alarm)| !given_up.contains(&id(key, alarm)))
        .take(DUE_PER_ROUND)
        .collect();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let commands: Vec<_> = due
        .iter()
        .map(|(key, alarm)| alarm_command(&key.aggregate_type, &key.aggregate_id, alarm))
        .collect();
    let mut outcomes: HashMap<String, MessageOutcome> = run_commands(handler, &commands)
        .await
        .into_iter()
        .map(|o| (o.message_id.clone(), o))
        .collect();
    let mut fired = Vec::with_capacity(due.len());
    for ((key, alarm), command) in due.into_iter().zip(commands) {
        let outcome =
            outcomes
                .remove(&command.command_id)
                .ok_or_else(|| RuntimeError::NoOutcome {
                    aggregate: key.to_string(),
                    alarm: alarm.name.clone(),
                })?;
        let transient = outcome.result.as_ref().is_err_and(|f| !f.is_permanent());
        if transient {
            notices.push(Notice::AlarmKept {
                aggregate: key.to_string(),
                alarm: alarm.name.clone(),
                version: alarm.version,
            });
            given_up.insert(id(&key, &alarm));
        } else {
            store
                .alarm_delivered(&key, &alarm.name, alarm.version)
                .map_err(|source| RuntimeError::Alarms {
                    action: "mark delivered",
                    source,
                })?;
        }
        fired.push((
            Fired {
                aggregate: key.to_string(),
                alarm: alarm.name.clone(),
                version: alarm.version,
                due: format!("{:.0}", alarm.due),
                command: command.command.clone(),
                outcome: outcome::word(&outcome.result),
                detail: outcome::text(&outcome.result),
            },
            outcome,
        ));
    }
    Ok(fired)
}

fn id(key: &AggregateKey, alarm: &Alarm) -> (String, String, u64) {
    (key.to_string(), alarm.name.clone(), alarm.version)
}
