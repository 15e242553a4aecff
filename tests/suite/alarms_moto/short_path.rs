//! The short path end to end on moto: an alarm due in a few seconds is the
//! command on the command queue with `DelaySeconds`, counted as delayed
//! (by the processor and by the queue), invisible until due, then received
//! and applied by the handler; what each step costs in requests.

use serde_json::json;

use super::rig::{AlarmRig, from_now, start};

#[tokio::test]
async fn an_alarm_due_in_seconds_is_a_delayed_message_applied_when_due() {
    let mut rig = AlarmRig::new().await;
    rig.rig.apply(&[start("t-1", &from_now(3))]).await;
    let (_, report) = rig.process().await;
    let counts = report.alarms();
    // `ring` delayed; the one-year `expiry` scheduled.
    assert_eq!((counts.delayed, counts.scheduled), (1, 1), "{report:?}");
    assert_eq!(rig.rig.sink_requests.sent(), ["SendMessageBatch"]);
    assert_eq!(rig.scheduler_requests.sent(), ["CreateSchedule"]);
    // On the queue, hidden until due.
    assert_eq!(rig.delayed().await, 1);
    assert!(
        rig.rig.queued_commands().await.is_empty(),
        "not visible before it is due"
    );

    let delivered = rig.delivered(1).await;
    assert_eq!(delivered[0]["commandId"], "timer#t-1@1/alarm/ring");
    assert_eq!(
        delivered[0]["metadata"]["alarm"],
        json!({"name": "ring", "version": 1})
    );
    rig.rig.stack.dynamo_requests.reset();
    let report = rig.handle(&delivered).await;
    let applied = report.outcomes[0].result.clone().expect("applied");
    assert_eq!((applied.version, applied.duplicate), (2, false));
    assert_eq!(applied.stale, None);
    // A fired alarm costs what a command costs: the head, its command id,
    // one write.
    let requests = rig.rig.stack.dynamo_requests.sent();
    eprintln!("an alarm that applies: {requests:?}");
    assert_eq!(requests, ["Query", "Query", "PutItem"]);
    let events = rig.rig.events("timer", "t-1").await;
    assert_eq!(events[1].event_type, "Rang");
    assert_eq!(events[1].state, "Rung");

    // Its event consumed the alarm after it was due: nothing to withdraw.
    rig.rig.sink_requests.reset();
    rig.scheduler_requests.reset();
    let (_, report) = rig.process().await;
    assert!(report.alarms().is_empty(), "{report:?}");
    assert!(rig.scheduler_requests.sent().is_empty());
}
