//! Firing the embedded store's due alarms (docs/alarms.md, "Locally"): each
//! alarm due by the handler's clock is sent as the command
//! `state_machine::alarm_command` builds (the one every path sends), through
//! the same handler as the reactions; once its outcome is final (applied,
//! duplicate, stale or refused) it is marked delivered, so it does not fire
//! again. One that failed transiently (after the retries `run_commands`
//! makes) stays pending for the next run and is not fired again in this one.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use handler_core::state_machine::{Alarm, Timestamp, alarm_command};
use handler_core::{AggregateKey, MessageOutcome};
use serde::Serialize;
use store_sqlite::SqliteStore;

use super::run_commands;
use crate::context::AppHandler;
use crate::output;

/// Alarms read per round (fired 10 to a batch).
const DUE_PER_ROUND: usize = 100;

/// An alarm left for the next run in this one: aggregate, name, version.
pub(crate) type GivenUp = HashSet<(String, String, u64)>;

/// One alarm fired, for the output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Fired {
    /// `type#id`.
    pub(crate) aggregate: String,
    /// The alarm's name.
    pub(crate) alarm: String,
    /// The version that set it.
    pub(crate) version: u64,
    /// When it was due (RFC 3339).
    pub(crate) due: String,
    /// The command it sent.
    pub(crate) command: String,
    /// `applied`, `duplicate`, `stale`, `rejected` or `failed`.
    pub(crate) outcome: &'static str,
    /// The outcome's line (`applied v2`, `stale v3: why`, ...).
    pub(crate) detail: String,
}

impl Fired {
    /// `alarm payment#o-1 payment-timeout (v1, due ...): TimeOutCharge applied v2`.
    pub(crate) fn line(&self) -> String {
        format!(
            "alarm {} {} (v{}, due {}): {} {}",
            self.aggregate, self.alarm, self.version, self.due, self.command, self.detail
        )
    }
}

/// Fires the alarms due by `now` (but those given up on in this run) and
/// marks each delivered once its outcome is final; returns them with their
/// outcomes, earliest due first.
pub(crate) async fn fire_due(
    handler: &AppHandler,
    store: &SqliteStore,
    now: Timestamp,
    given_up: &mut GivenUp,
) -> anyhow::Result<Vec<(Fired, MessageOutcome)>> {
    let due: Vec<(AggregateKey, Alarm)> = store
        .due_alarms(now, DUE_PER_ROUND + given_up.len())
        .context("cannot read the due alarms")?
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
        let outcome = outcomes
            .remove(&command.command_id)
            .context("the handler reported no outcome for an alarm")?;
        let transient = outcome.result.as_ref().is_err_and(|f| !f.is_permanent());
        if transient {
            output::note(&format!(
                "alarm {key} {} (v{}) failed transiently: it fires again on the next run",
                alarm.name, alarm.version
            ));
            given_up.insert(id(&key, &alarm));
        } else {
            store
                .alarm_delivered(&key, &alarm.name, alarm.version)
                .context("cannot mark an alarm delivered")?;
        }
        fired.push((
            Fired {
                aggregate: key.to_string(),
                alarm: alarm.name.clone(),
                version: alarm.version,
                due: format!("{:.0}", alarm.due),
                command: command.command.clone(),
                outcome: output::outcome_word(&outcome.result),
                detail: output::outcome_text(&outcome.result),
            },
            outcome,
        ));
    }
    Ok(fired)
}

fn id(key: &AggregateKey, alarm: &Alarm) -> (String, String, u64) {
    (key.to_string(), alarm.name.clone(), alarm.version)
}
