//! The stale cases over SQS on moto: four timers whose `ring` (due in a few
//! seconds) is a delayed message; before it is due one is stopped (cleared),
//! one snoozed (replaced by a newer alarm), one poked (moved on to a state
//! where `Ring` does not apply), and one left to ring, its message then
//! delivered twice. Each stale copy is acknowledged with no effect: no
//! event, no failure, nothing dead-lettered.

use handler_core::state_machine::Stale;
use serde_json::{Value, json};

use super::rig::{AlarmRig, from_now, start, timer};

#[tokio::test]
async fn cleared_replaced_moved_on_and_twice_delivered_alarms_are_stale() {
    let mut rig = AlarmRig::new().await;
    let due = from_now(3);
    let ids = ["t-cleared", "t-replaced", "t-moved", "t-twice"];
    let started: Vec<Value> = ids.iter().map(|id| start(id, &due)).collect();
    rig.rig.apply(&started).await;
    let (_, report) = rig.process().await;
    assert_eq!(report.alarms().delayed, 4, "{report:?}");

    let later = from_now(3600);
    let moved = rig
        .rig
        .apply(&[
            timer("t-cleared", "Stop", json!({})),
            timer("t-replaced", "Snooze", json!({ "at": later })),
            timer("t-moved", "Poke", json!({})),
        ])
        .await;
    assert!(moved.batch_item_failures.is_empty(), "{moved:?}");
    rig.scheduler_requests.reset();
    let (_, report) = rig.process().await;
    // The stopped and the replaced alarm are withdrawn where they can be
    // (their delayed messages cannot: DeleteSchedule finds nothing); the
    // snooze is a new schedule.
    let counts = report.alarms();
    assert_eq!((counts.unscheduled, counts.scheduled), (2, 1), "{report:?}");

    let delivered = rig.delivered(4).await;
    let body = |id: &str| -> Value {
        delivered
            .iter()
            .find(|b| b["aggregateId"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}'s alarm delivered"))
    };
    // The one left alone rings; then its message comes again.
    let first = rig.handle(&[body("t-twice")]).await;
    assert_eq!(
        first.outcomes[0].result.clone().expect("applied").version,
        2
    );

    let versions_before: Vec<usize> = futures::future::join_all(
        ids.iter()
            .map(|id| async { rig.rig.events("timer", id).await.len() }),
    )
    .await;
    rig.rig.stack.dynamo_requests.reset();
    let report = rig
        .handle(&[
            body("t-cleared"),
            body("t-replaced"),
            body("t-moved"),
            body("t-twice"),
        ])
        .await;
    let stale_requests = rig.rig.stack.dynamo_requests.sent();
    eprintln!("three stale alarms and a duplicate, on four aggregates: {stale_requests:?}");
    assert!(
        !stale_requests
            .iter()
            .any(|r| r == "PutItem" || r == "TransactWriteItems"),
        "nothing written: {stale_requests:?}"
    );
    assert!(report.failed_message_ids().is_empty(), "{report:?}");
    let outcome = |i: usize| report.outcomes[i].result.clone().expect("acknowledged");
    assert_eq!(outcome(0).stale, Some(Stale::NotSet), "cleared");
    assert_eq!(
        outcome(1).stale,
        Some(Stale::Replaced { by_version: 2 }),
        "replaced"
    );
    assert_eq!(outcome(2).stale, Some(Stale::MovedOn), "moved on");
    assert!(outcome(3).duplicate, "delivered twice");
    let versions_after: Vec<usize> = futures::future::join_all(
        ids.iter()
            .map(|id| async { rig.rig.events("timer", id).await.len() }),
    )
    .await;
    assert_eq!(versions_after, versions_before, "no event written");
    assert_eq!(rig.rig.stack.depth(&rig.rig.dlq).await, (0, 0));
}
