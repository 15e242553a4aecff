//! Alarms through the handler on the embedded store (docs/alarms.md): a
//! fired alarm that applies is consumed; the four stale cases (cleared
//! before it fired, replaced, the aggregate moved on, delivered twice) are
//! acknowledged with no event; a forged firing (early: `alarm_not_due`;
//! another command or payload: `alarm_mismatch`) is refused and leaves the
//! alarm set; a rule that cannot be evaluated on the alarm's transition is a
//! failure, not stale; a bad `at` is refused as `alarm_invalid`;
//! `recordedAt` and due times come from the handler's clock.

// The benches' shared fixtures (configs in memory).
#[path = "../benches/common/mod.rs"]
mod common;

use std::cell::Cell;
use std::sync::Arc;

use batch_handler::Handler;
use handler_core::config_source::compile;
use handler_core::state_machine::{EXPIRY, Stale, StateMachine, Timestamp, alarm_command};
use handler_core::{
    AggregateKey, Applied, Batch, Clock, EventStore, InboundMessage, MessageOutcome,
};
use serde_json::json;
use store_sqlite::SqliteStore;

use test_doubles::MemoryConfigs;

const ORDER: &str = r#"{
  "aggregateType": "order", "version": 1, "initialState": "New",
  "states": ["New", "AwaitingPayment", "Paid", "Archived", "Cancelled", "Expired"],
  "expiry": { "after": "P1Y", "command": "Expire" },
  "transitions": [
    { "command": "Place", "from": ["New"], "to": "AwaitingPayment", "event": "Placed",
      "alarms": { "set": [
        { "name": "payment-timeout", "after": "PT15M", "command": "PaymentTimedOut" },
        { "name": "reminder", "at": { "var": "payload.remindAt" }, "command": "Remind" } ] } },
    { "command": "Remind", "from": ["AwaitingPayment"], "to": "AwaitingPayment", "event": "Reminded" },
    { "command": "Extend", "from": ["AwaitingPayment"], "to": "AwaitingPayment", "event": "Extended",
      "alarms": { "set": [ { "name": "payment-timeout", "after": "PT30M", "command": "PaymentTimedOut" } ] } },
    { "command": "Pay", "from": ["AwaitingPayment"], "to": "Paid", "event": "Paid",
      "alarms": { "clear": [ "payment-timeout" ] } },
    { "command": "Archive", "from": ["Paid"], "to": "Archived", "event": "Archived" },
    { "command": "PaymentTimedOut", "from": ["AwaitingPayment"], "to": "Cancelled", "event": "TimedOut" },
    { "command": "Expire", "from": ["AwaitingPayment", "Paid", "Cancelled"], "to": "Expired", "event": "Expired" }
  ]
}"#;

const NOW: &str = "2030-01-01T00:00:00.250Z";

fn machine() -> Arc<StateMachine> {
    Arc::new(compile("order.json", ORDER.as_bytes(), Some("order")).expect("order config"))
}

thread_local! {
    /// This test's now: `NOW` until a firing moves it (each `#[tokio::test]`
    /// runs on its own thread, its handler on that thread).
    static TEST_NOW: Cell<Option<Timestamp>> = const { Cell::new(None) };
}

/// The handler's clock in these tests: `NOW`, moved on by [`fired`] to the
/// alarm's due time, as a firing comes when due.
#[derive(Debug)]
struct TestClock;

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        TEST_NOW
            .with(Cell::get)
            .unwrap_or_else(|| NOW.parse().expect("a time"))
    }
}

/// Moves the test's clock on to `to` (never back).
fn advance_to(to: Timestamp) {
    let now = TestClock.now();
    TEST_NOW.with(|cell| cell.set(Some(now.max(to))));
}

fn handler() -> Handler<SqliteStore, MemoryConfigs> {
    let clock = TestClock;
    Handler::new(
        SqliteStore::in_memory().expect("store"),
        MemoryConfigs::one(machine()),
    )
    .with_clock(Arc::new(clock))
}

fn key() -> AggregateKey {
    AggregateKey::new("order", "o-1")
}

fn body(command: &str, id: &str) -> String {
    json!({ "aggregateType": "order", "aggregateId": "o-1", "command": command, "commandId": id,
            "payload": { "remindAt": "2030-01-02T00:00:00Z" } })
    .to_string()
}

async fn send(h: &Handler<SqliteStore, MemoryConfigs>, bodies: &[String]) -> Vec<MessageOutcome> {
    let messages = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| InboundMessage::new(format!("m-{i}"), b.clone()))
        .collect();
    h.handle(Batch::standard(messages)).await.outcomes
}

async fn applied(h: &Handler<SqliteStore, MemoryConfigs>, bodies: &[String]) -> Vec<Applied> {
    send(h, bodies)
        .await
        .into_iter()
        .map(|o| o.result.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

/// The command body alarm `name` of the aggregate's head sends, with the
/// clock moved on to its due time.
async fn fired(h: &Handler<SqliteStore, MemoryConfigs>, name: &str) -> String {
    let body = early(h, name).await;
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    advance_to(head.alarms[name].due);
    body
}

/// The command body alarm `name` of the aggregate's head sends, the clock
/// left where it is.
async fn early(h: &Handler<SqliteStore, MemoryConfigs>, name: &str) -> String {
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    let alarm = head
        .alarms
        .get(name)
        .unwrap_or_else(|| panic!("{name} set"));
    serde_json::to_string(&alarm_command("order", "o-1", alarm)).unwrap()
}

async fn version(h: &Handler<SqliteStore, MemoryConfigs>) -> u64 {
    h.store().events(&key(), 0, 100).await.unwrap().len() as u64
}

async fn placed() -> Handler<SqliteStore, MemoryConfigs> {
    let h = handler();
    applied(&h, &[body("Place", "c-place")]).await;
    h
}

#[tokio::test]
async fn a_fired_alarm_that_applies_is_consumed() {
    let h = placed().await;
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    let due = |name: &str| head.alarms[name].due.to_string();
    assert_eq!(due("payment-timeout"), "2030-01-01T00:15:01Z");
    assert_eq!(due("reminder"), "2030-01-02T00:00:00Z");
    assert_eq!(due(EXPIRY), "2031-01-01T00:00:01Z");
    let placed = &h.store().events(&key(), 0, 10).await.unwrap()[0];
    assert_eq!(
        placed.recorded_at, "2030-01-01T00:00:00.250Z",
        "the handler's clock"
    );
    assert_eq!(placed.alarms.as_ref().unwrap().set.len(), 3);
    assert!(
        head.alarms
            .values()
            .all(|a| a.correlation_id.as_deref() == Some("c-place"))
    );

    let timeout = fired(&h, "payment-timeout").await;
    let outcome = applied(&h, &[timeout]).await;
    assert_eq!(
        outcome,
        [Applied {
            version: 2,
            duplicate: false,
            stale: None
        }]
    );
    let events = h.store().events(&key(), 0, 10).await.unwrap();
    assert_eq!(events[1].event_type, "TimedOut");
    assert_eq!(
        events[1].metadata["alarm"],
        json!({ "name": "payment-timeout", "version": 1 })
    );
    let cleared = &events[1]
        .alarms
        .as_ref()
        .expect("it consumed the alarm")
        .cleared;
    assert_eq!(cleared[0].name, "payment-timeout");
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    assert!(!head.alarms.contains_key("payment-timeout"));
    assert_eq!(head.alarms.len(), 2);
}

/// Sends `body` and checks it is acknowledged as stale for `why`, with no
/// event written.
async fn assert_stale(h: &Handler<SqliteStore, MemoryConfigs>, body: &str, why: Stale) {
    let before = version(h).await;
    let outcomes = send(h, &[body.to_owned()]).await;
    let applied = outcomes[0]
        .result
        .clone()
        .unwrap_or_else(|e| panic!("a failure: {e}"));
    assert_eq!(
        applied,
        Applied {
            version: before,
            duplicate: false,
            stale: Some(why)
        }
    );
    assert_eq!(applied.outcome(), "stale");
    assert!(!outcomes[0].must_retry() && !outcomes[0].dead_lettered);
    assert_eq!(version(h).await, before, "no event");
}

#[tokio::test]
async fn an_alarm_cleared_before_it_fires_is_stale() {
    let h = placed().await;
    let timeout = fired(&h, "payment-timeout").await;
    applied(&h, &[body("Pay", "c-pay")]).await;
    assert_stale(&h, &timeout, Stale::NotSet).await;
}

#[tokio::test]
async fn an_alarm_replaced_by_a_newer_one_is_stale() {
    let h = placed().await;
    let timeout = fired(&h, "payment-timeout").await;
    applied(&h, &[body("Extend", "c-extend")]).await;
    assert_stale(&h, &timeout, Stale::Replaced { by_version: 2 }).await;
    // The newer one applies.
    let newer = fired(&h, "payment-timeout").await;
    assert_eq!(applied(&h, &[newer]).await[0].stale, None);
}

#[tokio::test]
async fn an_alarm_whose_aggregate_moved_on_is_stale() {
    let h = placed().await;
    applied(&h, &[body("Pay", "c-pay"), body("Archive", "c-archive")]).await;
    // Expiry is still set, but `Expire` does not apply in `Archived`.
    let expire = fired(&h, EXPIRY).await;
    assert_stale(&h, &expire, Stale::MovedOn).await;
}

#[tokio::test]
async fn an_alarm_delivered_twice_has_one_effect() {
    let h = placed().await;
    let timeout = fired(&h, "payment-timeout").await;
    // Two copies in one batch, then a third later: one event.
    let outcomes = applied(&h, &[timeout.clone(), timeout.clone()]).await;
    assert_eq!(
        outcomes,
        [
            Applied {
                version: 2,
                duplicate: false,
                stale: None
            },
            Applied {
                version: 2,
                duplicate: true,
                stale: None
            },
        ]
    );
    let again = applied(&h, &[timeout]).await;
    assert_eq!(
        again,
        [Applied {
            version: 2,
            duplicate: true,
            stale: None
        }]
    );
    assert_eq!(version(&h).await, 2);

    // A stale copy delivered twice is stale twice.
    let reminder = fired(&h, "reminder").await;
    applied(&h, &[body("Expire", "c-expire")]).await;
    assert_stale(&h, &reminder, Stale::MovedOn).await;
    assert_stale(&h, &reminder, Stale::MovedOn).await;
}

#[tokio::test]
async fn a_bad_at_is_refused_as_alarm_invalid() {
    let h = handler();
    let bad = json!({ "aggregateType": "order", "aggregateId": "o-1", "command": "Place",
                      "payload": { "remindAt": "soon-ish secret-42" } })
    .to_string();
    let outcomes = send(&h, &[bad]).await;
    let failure = outcomes[0].result.clone().unwrap_err();
    assert_eq!(failure.code(), "alarm_invalid");
    assert!(failure.is_permanent());
    let reason = failure.to_string();
    assert!(
        reason.contains("alarm `reminder`") && !reason.contains("secret-42"),
        "{reason}"
    );
    assert_eq!(version(&h).await, 0);

    let far = json!({ "aggregateType": "order", "aggregateId": "o-1", "command": "Place",
                      "payload": { "remindAt": "2041-01-01T00:00:00Z" } })
    .to_string();
    let failure = send(&h, &[far]).await[0].result.clone().unwrap_err();
    assert_eq!(failure.code(), "alarm_invalid");
    assert!(
        failure.to_string().contains("more than 10 years"),
        "{failure}"
    );
}

#[tokio::test]
async fn due_alarms_follow_the_handlers_decisions() {
    let h = placed().await;
    let later: Timestamp = "2030-01-01T00:16:00Z".parse().unwrap();
    let due = h.store().due_alarms(later, 10).unwrap();
    let names: Vec<&str> = due.iter().map(|(_, a)| a.name.as_str()).collect();
    assert_eq!(names, ["payment-timeout"]);
    applied(&h, &[body("Pay", "c-pay")]).await;
    assert!(
        h.store().due_alarms(later, 10).unwrap().is_empty(),
        "cleared by Pay"
    );
}

/// Sends `body` and checks it is refused permanently with `code`, with no
/// event written and the alarm `name` still set; gives the reason.
async fn assert_refused(
    h: &Handler<SqliteStore, MemoryConfigs>,
    body: &str,
    code: &str,
    name: &str,
) -> String {
    let before = version(h).await;
    let outcomes = send(h, &[body.to_owned()]).await;
    let failure = outcomes[0].result.clone().expect_err("refused");
    assert_eq!(failure.code(), code, "{failure}");
    assert!(failure.is_permanent());
    assert_eq!(version(h).await, before, "no event");
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    assert!(head.alarms.contains_key(name), "{name} still set");
    failure.to_string()
}

#[tokio::test]
async fn a_forged_early_firing_is_refused_and_the_alarm_still_fires_when_due() {
    let h = placed().await;
    // Fifteen minutes early, by the handler's clock.
    let forged = early(&h, "payment-timeout").await;
    let reason = assert_refused(&h, &forged, "alarm_not_due", "payment-timeout").await;
    assert!(reason.contains("alarm `payment-timeout`"), "{reason}");
    // When due, the real firing applies.
    let timeout = fired(&h, "payment-timeout").await;
    assert_eq!(timeout, forged, "the same command");
    let outcome = send(&h, &[timeout]).await;
    assert_eq!(
        outcome[0].result.clone().map(|a| a.version),
        Ok(2),
        "applied when due"
    );
}

#[tokio::test]
async fn a_firing_of_another_command_or_payload_is_a_mismatch() {
    let h = placed().await;
    let timeout = fired(&h, "payment-timeout").await;
    let mut other: serde_json::Value = serde_json::from_str(&timeout).unwrap();
    other["command"] = json!("Pay");
    let reason = assert_refused(&h, &other.to_string(), "alarm_mismatch", "payment-timeout").await;
    assert!(
        reason.contains("sends `PaymentTimedOut`, not this command"),
        "{reason}"
    );
    let mut forged: serde_json::Value = serde_json::from_str(&timeout).unwrap();
    forged["payload"] = json!({ "refund": "secret-7" });
    let reason = assert_refused(&h, &forged.to_string(), "alarm_mismatch", "payment-timeout").await;
    assert!(
        reason.contains("payload is not the alarm's payload") && !reason.contains("secret-7"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_set_that_fails_on_an_alarms_transition_is_a_failure_not_stale() {
    // `PaymentTimedOut` computes a field from a value the order never has.
    let config = ORDER.replace(
        r#""event": "TimedOut" }"#,
        r#""event": "TimedOut",
      "set": { "penalty": { "*": [ { "var": "data.price" }, 2 ] } } }"#,
    );
    assert_ne!(config, ORDER);
    let machine =
        Arc::new(compile("order.json", config.as_bytes(), Some("order")).expect("config"));
    let h = Handler::new(
        SqliteStore::in_memory().expect("store"),
        MemoryConfigs::one(machine),
    )
    .with_clock(Arc::new(TestClock));
    applied(&h, &[body("Place", "c-place")]).await;
    let timeout = fired(&h, "payment-timeout").await;
    let outcomes = send(&h, &[timeout]).await;
    let failure = outcomes[0]
        .result
        .clone()
        .expect_err("a failure, not stale");
    assert_eq!(failure.code(), "guard_failed");
    assert!(failure.is_permanent());
    assert!(
        failure
            .to_string()
            .contains("`set.penalty` could not be evaluated"),
        "{failure}"
    );
    assert!(
        outcomes[0]
            .failure_record(&InboundMessage::new("m", "{}"), NOW)
            .is_some()
    );
}

/// The head the handler writes is the fold of its stored events, alarms
/// included (one batch deciding several commands in memory, then one more):
/// the handler folds an accepted event as every replay does
/// (`Event::apply_to`).
#[tokio::test]
async fn the_head_is_the_fold_of_the_stored_events() {
    let h = handler();
    applied(
        &h,
        &[
            body("Place", "c-place"),
            body("Extend", "c-extend"),
            body("Pay", "c-pay"),
        ],
    )
    .await;
    applied(&h, &[body("Archive", "c-archive")]).await;
    let events = h.store().events(&key(), 0, 10).await.unwrap();
    assert_eq!(events.len(), 4);
    let mut folded = machine().initial_state();
    for event in &events {
        event.apply_to(&mut folded);
    }
    let head = h.store().load(&key(), &[]).await.unwrap().head.unwrap();
    assert_eq!(head, folded);
    assert_eq!(
        head.alarms.keys().map(String::as_str).collect::<Vec<_>>(),
        ["expiry", "reminder"],
        "payment-timeout set, replaced, then cleared"
    );
}
