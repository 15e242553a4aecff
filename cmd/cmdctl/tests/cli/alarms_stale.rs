//! A fired alarm with no effect is `stale` (docs/alarms.md, "A fired
//! alarm"): cleared before it fired, replaced by a newer one, its aggregate
//! moved on, or delivered twice. Each is acknowledged (exit 0, not in the
//! Lambda's failures), writes no event, and is not fired again. A reminder
//! of this file's own config (`at`: a time the user chose) and the saga's
//! payment timeout; the alarm's command delivered by hand is what a
//! scheduler or a delayed message delivers.

use handler_core::state_machine::{IsoDuration, Timestamp};
use serde_json::{Value, json};

use crate::harness::*;
use crate::saga::{place_by_transfer, restock};

/// A reminder: `Schedule {at}` sets `remind` at that time, `Reschedule`
/// sets it again, `Cancel` clears it, `Finish` leaves it set (the
/// reminder's command then no longer applies).
const REMINDER: &str = r#"{
  "aggregateType": "reminder",
  "version": 1,
  "initialState": "New",
  "states": ["New", "Scheduled", "Reminded", "Done"],
  "transitions": [
    { "command": "Schedule", "from": ["New"], "to": "Scheduled", "event": "ReminderScheduled",
      "payloadSchema": { "type": "object", "additionalProperties": false, "required": ["at"],
                         "properties": { "at": { "type": "string" } } },
      "alarms": { "set": [{ "name": "remind", "at": { "var": "payload.at" }, "command": "Remind",
                            "payload": { "note": "time to go" } }] } },
    { "command": "Reschedule", "from": ["Scheduled"], "to": "Scheduled", "event": "ReminderMoved",
      "payloadSchema": { "type": "object", "additionalProperties": false, "required": ["at"],
                         "properties": { "at": { "type": "string" } } },
      "alarms": { "set": [{ "name": "remind", "at": { "var": "payload.at" }, "command": "Remind" }] } },
    { "command": "Cancel", "from": ["Scheduled"], "to": "Done", "event": "ReminderCancelled",
      "alarms": { "clear": ["remind"] } },
    { "command": "Finish", "from": ["Scheduled"], "to": "Done", "event": "ReminderFinished" },
    { "command": "Remind", "from": ["Scheduled"], "to": "Reminded", "event": "Reminded" }
  ]
}"#;

/// A CLI whose config directory holds the reminder only.
struct Reminders {
    cli: Cli,
    config: String,
}

impl Reminders {
    fn new() -> Self {
        let cli = Cli::new();
        let dir = cli.dir.path().join("reminder-config");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("reminder.json"), REMINDER).unwrap();
        let config = dir.to_str().unwrap().to_owned();
        Reminders { cli, config }
    }

    fn run(&self, args: &[&str]) -> Run {
        let mut all = vec!["--config-dir", self.config.as_str()];
        all.extend(args);
        self.cli.run(&all)
    }

    /// One command by `exec --json` (reactions and due alarms run after it).
    fn exec(&self, id: &str, command: &str, payload: Value) -> Value {
        let payload = payload.to_string();
        self.run(&[
            "exec",
            "reminder",
            id,
            command,
            "--payload",
            &payload,
            "--json",
        ])
        .ok()
        .json()
    }

    fn events(&self, id: &str) -> usize {
        let run = self.run(&["events", "reminder", id, "--json"]).ok();
        run.json().as_array().unwrap().len()
    }

    fn state(&self, id: &str) -> Value {
        self.run(&["state", "reminder", id, "--json"]).ok().json()
    }

    /// `run --now NOW --json`.
    fn run_at(&self, now: &str) -> Value {
        self.run(&["run", "--now", now, "--json"]).ok().json()
    }
}

/// The time `duration` (ISO 8601) from now, as RFC 3339 in whole seconds.
fn from_now(duration: &str) -> String {
    let duration: IsoDuration = duration.parse().expect("a duration");
    let at = duration.after(Timestamp::now()).expect("a time");
    format!("{at:.0}")
}

/// The fired alarm's command, delivered by hand as a scheduler delivers
/// it: `exec` with its command id and `metadata.alarm`.
fn deliver(
    run: impl Fn(&[&str]) -> Run,
    aggregate: (&str, &str),
    command: &str,
    alarm: &str,
    version: u64,
) -> Value {
    let (aggregate_type, id) = aggregate;
    let command_id = format!("{aggregate_type}#{id}@{version}/alarm/{alarm}");
    let metadata = json!({ "alarm": { "name": alarm, "version": version } }).to_string();
    run(&[
        "exec",
        aggregate_type,
        id,
        command,
        "--command-id",
        &command_id,
        "--metadata",
        &metadata,
        "--json",
    ])
    .ok()
    .json()
}

/// A stale outcome: acknowledged, why, at the aggregate's current version.
fn assert_stale(doc: &Value, version: u64, why: &str) {
    let outcome = &doc["outcome"];
    assert_eq!(outcome["outcome"], "stale", "{doc}");
    assert_eq!(outcome["version"], version, "{doc}");
    assert!(
        outcome["stale"].as_str().unwrap_or("").contains(why),
        "{doc}"
    );
}

#[test]
fn a_time_in_the_past_fires_at_once() {
    let r = Reminders::new();
    let doc = r.exec(
        "r-past",
        "Schedule",
        json!({ "at": "2020-01-01T00:00:00Z" }),
    );
    assert_eq!(doc["reactions"]["alarms"], 1, "{doc}");
    assert_eq!(doc["reactions"]["fired"][0]["outcome"], "applied", "{doc}");
    let state = r.state("r-past");
    assert_eq!(state["state"], "Reminded");
    assert_eq!(state["data"]["note"], "time to go", "the alarm's payload");
    // The text form names the alarm that fired.
    let run = r
        .run(&[
            "exec",
            "reminder",
            "r-past-2",
            "Schedule",
            "--payload",
            r#"{"at":"2020-01-01T00:00:00Z"}"#,
        ])
        .ok();
    assert!(
        run.stdout.contains(
            "alarm reminder#r-past-2 remind (v1, due 2020-01-01T00:00:00Z): Remind applied v2"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 alarm fired (0 stale)"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_alarm_cleared_before_it_fires_is_stale() {
    let r = Reminders::new();
    r.exec("r-1", "Schedule", json!({ "at": from_now("P1Y") }));
    r.exec("r-1", "Cancel", json!({}));
    // Cleared: nothing left to fire locally.
    assert_eq!(r.run_at("+P2Y")["alarms"], 0);
    // Delivered anyway (a delayed message that was already on its way).
    let doc = deliver(|a| r.run(a), ("reminder", "r-1"), "Remind", "remind", 1);
    assert_stale(&doc, 2, "no longer set");
    assert_eq!(r.events("r-1"), 2, "no event");
}

#[test]
fn an_alarm_replaced_by_a_newer_one_is_stale_and_the_newer_fires() {
    let r = Reminders::new();
    r.exec("r-2", "Schedule", json!({ "at": from_now("P1Y") }));
    r.exec("r-2", "Reschedule", json!({ "at": from_now("P3Y") }));
    // The first time has passed: nothing fires, the alarm was moved.
    assert_eq!(r.run_at("+P2Y")["alarms"], 0);
    let doc = deliver(|a| r.run(a), ("reminder", "r-2"), "Remind", "remind", 1);
    assert_stale(&doc, 2, "set again by version 2");
    assert_eq!(r.events("r-2"), 2, "no event");
    // The newer one fires at its time.
    let doc = r.run_at("+P4Y");
    assert_eq!(doc["fired"][0]["outcome"], "applied", "{doc}");
    assert_eq!(r.state("r-2")["state"], "Reminded");
}

#[test]
fn an_alarm_of_an_aggregate_that_moved_on_is_stale_and_delivered_once() {
    let r = Reminders::new();
    r.exec("r-3", "Schedule", json!({ "at": from_now("P1Y") }));
    r.exec("r-3", "Finish", json!({}));
    // Still set, but `Remind` does not apply in Done.
    let doc = r.run_at("+P1Y1D");
    assert_eq!(doc["alarms"], 1, "{doc}");
    assert_eq!(doc["stale"], 1, "{doc}");
    assert_eq!(doc["failed"], 0, "{doc}");
    let fired = &doc["fired"][0];
    assert_eq!(fired["outcome"], "stale", "{doc}");
    assert!(
        fired["detail"]
            .as_str()
            .unwrap()
            .contains("no longer applies"),
        "{doc}"
    );
    assert_eq!(r.events("r-3"), 2, "no event");
    assert_eq!(r.state("r-3")["state"], "Done");
    // Delivered: not fired again.
    assert_eq!(r.run_at("+P1Y2D")["alarms"], 0);
    // Delivered again by hand (no event was written, so no duplicate):
    // stale again, for the same reason.
    // (When due and with the alarm's payload: else `alarm_not_due` or
    // `alarm_mismatch`.)
    let doc = deliver(
        |a| {
            let when = ["--now", "+P1Y2D", "--payload", r#"{"note":"time to go"}"#];
            r.run(&[a, &when].concat())
        },
        ("reminder", "r-3"),
        "Remind",
        "remind",
        1,
    );
    assert_stale(&doc, 2, "no longer applies");
    assert_eq!(r.events("r-3"), 2, "no event");
}

/// The payment timeout fires and applies; the same firing delivered again
/// (by hand, and twice in one batch) writes nothing and is not a failure.
#[test]
fn an_alarm_delivered_twice_applies_once() {
    let cli = Cli::new();
    restock(&cli);
    place_by_transfer(&cli, "d-1", "beans", 2);
    cli.run(&["run", "--now", "+PT16M"]).ok();
    let events = cli.events("payment", "d-1").len();
    assert_eq!(events, 2, "ChargeRequested, ChargeTimedOut");

    // The same firing again: its command id was applied, a duplicate.
    let doc = deliver(
        |a| cli.run(a),
        ("payment", "d-1"),
        "TimeOutCharge",
        "payment-timeout",
        1,
    );
    assert_eq!(doc["outcome"]["outcome"], "duplicate", "{doc}");
    assert_eq!(doc["outcome"]["version"], 2, "{doc}");
    assert_eq!(cli.events("payment", "d-1").len(), events, "no event");
    // A copy under another command id: the alarm is consumed, stale.
    let metadata = json!({ "alarm": { "name": "payment-timeout", "version": 1 } }).to_string();
    let run = cli
        .run(&[
            "exec",
            "payment",
            "d-1",
            "TimeOutCharge",
            "--command-id",
            "copy",
            "--metadata",
            &metadata,
        ])
        .ok();
    assert!(
        run.stdout.starts_with(
            "stale v2: payment#d-1 TimeOutCharge (commandId copy) (a fired alarm with no \
             effect, the alarm is no longer set: nothing written)"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(cli.events("payment", "d-1").len(), events, "no event");

    // Two copies in one Lambda batch: both acknowledged, no failure.
    let body = json!({
        "commandId": "payment#d-1@1/alarm/payment-timeout", "aggregateType": "payment",
        "aggregateId": "d-1", "command": "TimeOutCharge",
        "metadata": { "alarm": { "name": "payment-timeout", "version": 1 } }
    })
    .to_string();
    let records: Vec<Value> = ["one", "two"]
        .iter()
        .map(|copy| json!({ "messageId": copy, "body": body, "eventSource": "aws:sqs" }))
        .collect();
    let batch = cli.dir.path().join("twice.json");
    std::fs::write(&batch, json!({ "Records": records }).to_string()).unwrap();
    let run = cli.run(&["process", batch.to_str().unwrap()]).ok();
    assert!(run.failed_ids().is_empty(), "{}", run.stdout);
    for copy in ["one", "two"] {
        assert!(
            run.message_line(copy)
                .ends_with("TimeOutCharge duplicate v2"),
            "{}",
            run.stdout
        );
    }
    assert_eq!(cli.events("payment", "d-1").len(), events, "no event");
}
