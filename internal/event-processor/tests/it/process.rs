//! `EventProcessor::process`: order, partial failure, replay, bad records.

use event_processor::{Outcome, RecordBody};
use handler_core::AggregateKey;
use serde_json::json;

use crate::fakes::{NOW, World, events, order, records, standard_configs, stored};

#[tokio::test]
async fn out_of_order_versions_are_processed_in_version_order() {
    let world = World::new();
    let report = world
        .processor
        .process(events(vec![
            order("o-1", 3),
            order("o-1", 1),
            order("o-1", 2),
        ]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(
        world.published_ids(),
        ["order#o-1@1", "order#o-1@2", "order#o-1@3"]
    );
    assert_eq!(
        world.sent_ids(),
        [
            "order#o-1@1/0",
            "order#o-1@1/1",
            "order#o-1@2/0",
            "order#o-1@3/0"
        ]
    );
    // One publish call and one send call per wave (one wave per version of
    // the aggregate: a later event is sent only after the earlier one
    // finished); the report is in input order.
    assert_eq!(
        (
            *world.bus.calls.lock().unwrap(),
            *world.queue.calls.lock().unwrap()
        ),
        (3, 3)
    );
    let ids: Vec<_> = report
        .outcomes
        .iter()
        .map(|o| o.event_id.clone().unwrap())
        .collect();
    assert_eq!(ids, ["order#o-1@3", "order#o-1@1", "order#o-1@2"]);
    assert_eq!((report.published(), report.reactions_sent()), (3, 4));
}

#[tokio::test]
async fn a_failed_publish_holds_its_aggregates_later_events_only() {
    let world = World::new();
    world
        .bus
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-1@2".into());
    let report = world
        .processor
        .process(events(vec![
            order("o-2", 1),
            order("o-1", 3),
            order("o-1", 1),
            order("o-1", 2),
            order("o-2", 2),
        ]))
        .await;
    let outcome = |i: usize| report.outcomes[i].outcome.clone();
    assert_eq!(outcome(2), Outcome::Done);
    assert!(
        matches!(outcome(3), Outcome::Unfinished { .. }),
        "{:?}",
        outcome(3)
    );
    assert_eq!(outcome(1), Outcome::Held);
    assert_eq!((outcome(0), outcome(4)), (Outcome::Done, Outcome::Done));
    // v3's reactions are not sent; v2 sent none; the other aggregate's all went.
    let sent = world.sent_ids();
    assert!(
        !sent
            .iter()
            .any(|id| id.starts_with("order#o-1@2") || id.starts_with("order#o-1@3")),
        "{sent:?}"
    );
    assert!(sent.contains(&"order#o-1@1/0".to_owned()));
    assert!(sent.contains(&"order#o-2@2/0".to_owned()));
    // The first unfinished record in INPUT order is v3 (position p1), not v2 (p3).
    assert_eq!(report.first_unfinished.as_deref(), Some("p1"));
    assert_eq!(report.unfinished(), 2);
}

#[tokio::test]
async fn a_refused_reaction_leaves_its_event_unfinished() {
    let world = World::new();
    world
        .queue
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-1@1/1".into());
    let report = world
        .processor
        .process(events(vec![
            order("o-1", 1),
            order("o-1", 2),
            order("o-9", 1),
        ]))
        .await;
    assert!(matches!(
        report.outcomes[0].outcome,
        Outcome::Unfinished { .. }
    ));
    assert_eq!(report.outcomes[0].reactions_sent, 1);
    assert_eq!(report.outcomes[1].outcome, Outcome::Held);
    assert_eq!(report.outcomes[2].outcome, Outcome::Done);
    assert_eq!(report.first_unfinished.as_deref(), Some("p0"));
}

#[tokio::test]
async fn the_same_batch_twice_sends_the_same_command_ids() {
    let world = World::new();
    let batch = || events(vec![order("o-1", 1), order("o-2", 1), order("o-1", 2)]);
    let first = world.processor.process(batch()).await;
    let once = world.sent_ids();
    let second = world.processor.process(batch()).await;
    let twice = world.sent_ids();
    assert_eq!(first, second);
    assert_eq!(twice[..once.len()], once[..]);
    assert_eq!(twice[once.len()..], once[..]);
    let sent = world.queue.kept.lock().unwrap();
    let reserve = sent
        .iter()
        .find(|c| c.command_id == "order#o-1@1/0")
        .unwrap();
    assert_eq!(
        serde_json::to_value(reserve).unwrap(),
        json!({"commandId": "order#o-1@1/0", "aggregateType": "inventory", "aggregateId": "sku-o-1",
               "command": "Reserve", "payload": {"orderId": "o-1"},
               "metadata": {"correlationId": "c-o-1-1", "causationId": "order#o-1@1", "hops": 1}})
    );
}

#[tokio::test]
async fn records_that_are_not_events_or_are_malformed_never_stop_the_others() {
    let world = World::new();
    let key = AggregateKey::new("order", "o-1");
    let report = world
        .processor
        .process(records(vec![
            RecordBody::NotAnEvent,
            RecordBody::Malformed {
                key: Some(key.clone()),
                reason: "no version".into(),
            },
            RecordBody::Event(order("o-1", 1)),
            RecordBody::Malformed {
                key: None,
                reason: "no key".into(),
            },
            RecordBody::Event(order("o-1", 2)),
        ]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(report.outcomes[0].outcome, Outcome::NotAnEvent);
    assert!(matches!(
        report.outcomes[1].outcome,
        Outcome::Malformed { .. }
    ));
    assert_eq!(report.skipped(), 3);
    assert_eq!(world.published_ids(), ["order#o-1@1", "order#o-1@2"]);
    // The malformed record with a known key is recorded, the other only logged.
    let recorded = world.failures.recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        (recorded[0].code.as_str(), recorded[0].aggregate.as_ref()),
        ("malformed_event", Some(&key))
    );
}

#[tokio::test]
async fn a_reaction_that_cannot_be_built_is_recorded_and_the_event_finishes() {
    let world = World::new();
    // No itemId: the inventory reservation has no aggregate id.
    let event = stored(
        "order",
        "o-1",
        1,
        "OrderCreated",
        "Created",
        json!({"secret": "s3cr3t"}),
    );
    let report = world
        .processor
        .process(events(vec![event, order("o-1", 2)]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(
        (
            report.outcomes[0].reactions_failed,
            report.outcomes[0].reactions_sent
        ),
        (1, 1)
    );
    assert_eq!(world.sent_ids(), ["order#o-1@1/1", "order#o-1@2/0"]);
    let recorded = world.failures.recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1);
    let failure = &recorded[0];
    assert_eq!(failure.message_id, "order#o-1@1/0");
    assert_eq!(
        (failure.code.as_str(), failure.permanent),
        ("reaction_failed", true)
    );
    assert_eq!(failure.command.as_deref(), Some("Reserve"));
    assert!(
        failure.reason.contains("aggregateId") && !failure.reason.contains("s3cr3t"),
        "{}",
        failure.reason
    );
}

#[tokio::test]
async fn a_failure_log_that_is_down_leaves_the_event_unfinished() {
    let world = World::new();
    *world.failures.down.lock().unwrap() = true;
    let event = stored("order", "o-1", 1, "OrderCreated", "Created", json!({}));
    let report = world
        .processor
        .process(events(vec![event, order("o-1", 2), order("o-2", 1)]))
        .await;
    assert!(matches!(
        report.outcomes[0].outcome,
        Outcome::Unfinished { .. }
    ));
    assert_eq!(report.outcomes[1].outcome, Outcome::Held);
    assert_eq!(report.outcomes[2].outcome, Outcome::Done);
    assert_eq!(world.published_ids(), ["order#o-2@1"]);
    assert_eq!(report.first_unfinished.as_deref(), Some("p0"));
}

#[tokio::test]
async fn a_type_without_config_finishes_and_an_unreadable_config_does_not() {
    let world = World::with(standard_configs());
    world
        .configs
        .down
        .lock()
        .unwrap()
        .insert("inventory".into());
    let report = world
        .processor
        .process(events(vec![
            stored("ghost", "g", 1, "Boo", "Here", json!({})),
            stored("inventory", "i", 1, "Reserved", "Held", json!({})),
            order("o-1", 1),
        ]))
        .await;
    assert_eq!(report.outcomes[0].outcome, Outcome::NoConfig);
    assert!(matches!(
        report.outcomes[1].outcome,
        Outcome::Unfinished { .. }
    ));
    assert_eq!(report.outcomes[2].outcome, Outcome::Done);
    assert_eq!(report.first_unfinished.as_deref(), Some("p1"));
}

#[tokio::test]
async fn an_empty_batch_calls_nothing() {
    let world = World::new();
    let report = world.processor.process(Vec::new()).await;
    assert!(report.all_finished() && report.outcomes.is_empty());
    assert_eq!(
        (
            *world.bus.calls.lock().unwrap(),
            *world.queue.calls.lock().unwrap()
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn a_publication_carries_the_event_and_its_id() {
    let world = World::new();
    world.processor.process(events(vec![order("o-1", 1)])).await;
    let published = world.bus.kept.lock().unwrap();
    let p = &published[0];
    assert_eq!(
        (p.source.as_str(), p.detail_type.as_str()),
        ("command-handler.order", "OrderCreated")
    );
    let detail: serde_json::Value = serde_json::from_str(&p.detail).unwrap();
    assert_eq!(
        detail,
        json!({"eventId": "order#o-1@1", "aggregateType": "order", "aggregateId": "o-1", "version": 1,
               "eventType": "OrderCreated", "state": "Created", "payload": {"itemId": "sku-o-1"},
               "metadata": {}, "commandId": "c-o-1-1", "recordedAt": "2026-01-01T00:00:00.000Z",
               "configVersion": 1})
    );
}

#[tokio::test]
async fn a_publication_refused_for_good_is_recorded_and_its_other_steps_still_run() {
    // Issue 20 item 1: an entry the bus can never take (too large) is a
    // permanent `publish_failed`; its reactions still go and the record
    // finishes, so the aggregate's later events are not held.
    let world = World::new();
    world
        .bus
        .refuse_for_good
        .lock()
        .unwrap()
        .insert("order#o-1@1".into());
    let report = world
        .processor
        .process(events(vec![order("o-1", 1), order("o-1", 2)]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert!(!report.outcomes[0].published);
    assert_eq!(report.outcomes[0].reactions_sent, 2);
    assert_eq!(world.published_ids(), ["order#o-1@2"]);
    assert_eq!(
        world.sent_ids(),
        ["order#o-1@1/0", "order#o-1@1/1", "order#o-1@2/0"]
    );
    let recorded = world.failures.recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert_eq!(
        (
            recorded[0].code.as_str(),
            recorded[0].permanent,
            recorded[0].message_id.as_str()
        ),
        ("publish_failed", true, "order#o-1@1/publish")
    );
    assert!(recorded[0].reason.contains("too large for good"));
}

#[tokio::test]
async fn a_reaction_refused_for_good_is_recorded_and_the_event_finishes() {
    let world = World::new();
    world
        .queue
        .refuse_for_good
        .lock()
        .unwrap()
        .insert("order#o-1@1/0".into());
    let report = world
        .processor
        .process(events(vec![order("o-1", 1), order("o-1", 2)]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(
        (
            report.outcomes[0].reactions_sent,
            report.outcomes[0].reactions_failed
        ),
        (1, 1)
    );
    let recorded = world.failures.recorded.lock().unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].code, "reaction_failed");
    assert_eq!(recorded[0].command_id.as_deref(), Some("order#o-1@1/0"));
}

#[tokio::test]
async fn a_later_event_is_never_offered_before_an_earlier_one_finished() {
    // Issue 20 item 10: before, every step offered the whole batch at once,
    // so o-1@2 was published (and reacted to) beside a refused o-1@1.
    let world = World::new();
    world
        .bus
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-1@1".into());
    let report = world
        .processor
        .process(events(vec![
            order("o-1", 2),
            order("o-1", 1),
            order("o-2", 1),
            order("o-2", 2),
        ]))
        .await;
    assert!(matches!(
        report.outcomes[1].outcome,
        Outcome::Unfinished { .. }
    ));
    assert_eq!(report.outcomes[0].outcome, Outcome::Held);
    let offered = world.bus.offered.lock().unwrap().clone();
    // Wave 1: the first event of each aggregate; wave 2: o-2's second only.
    assert_eq!(offered, ["order#o-1@1", "order#o-2@1", "order#o-2@2"]);
    let sent = world.queue.offered.lock().unwrap().clone();
    assert!(
        !sent.iter().any(|id| id.starts_with("order#o-1@")),
        "{sent:?}"
    );
    assert_eq!(report.first_unfinished.as_deref(), Some("p0"));
}

#[tokio::test]
async fn a_reaction_the_handler_would_refuse_is_recorded_naming_the_field() {
    // Issue 20 item 5: `itemId` "x#y" builds a reservation whose
    // `aggregateId` the handler refuses (`#`): a `reaction_failed` at build
    // time, never a command that would sit in the DLQ while the order waits.
    let world = World::new();
    let hash = stored(
        "order",
        "o-1",
        1,
        "OrderCreated",
        "Created",
        json!({"itemId": "x#y"}),
    );
    let report = world.processor.process(events(vec![hash])).await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(world.sent_ids(), ["order#o-1@1/1"]);
    let recorded = world.failures.recorded.lock().unwrap().clone();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].code, "reaction_failed");
    assert_eq!(recorded[0].command.as_deref(), Some("Reserve"));
    assert!(
        recorded[0].reason.contains("aggregateId")
            && recorded[0].reason.contains("OrderCreated")
            && !recorded[0].reason.contains("x#y"),
        "{}",
        recorded[0].reason
    );
}

#[tokio::test]
async fn past_the_deadline_margin_nothing_starts_and_every_event_is_unfinished_with_a_reason() {
    // Issue 20 item 15: the processor used to ignore its invocation's
    // deadline; now no step starts within the margin before it.
    let world = World::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    let report = world
        .processor
        .process_until(
            events(vec![order("o-1", 1), order("o-2", 1)]),
            Some(deadline),
        )
        .await;
    assert_eq!(report.unfinished(), 2, "{report:?}");
    let Outcome::Unfinished { reason } = &report.outcomes[0].outcome else {
        panic!("{report:?}")
    };
    assert!(reason.contains("deadline"), "{reason}");
    assert_eq!(report.first_unfinished.as_deref(), Some("p0"));
    assert_eq!(
        (
            *world.bus.calls.lock().unwrap(),
            *world.queue.calls.lock().unwrap()
        ),
        (0, 0)
    );
    // With time left, the same batch goes through.
    let later = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let report = world
        .processor
        .process_until(events(vec![order("o-1", 1), order("o-2", 1)]), Some(later))
        .await;
    assert!(report.all_finished(), "{report:?}");
}

#[tokio::test]
async fn every_failure_record_is_dated_by_the_processors_clock() {
    let world = World::new();
    world
        .bus
        .refuse_for_good
        .lock()
        .unwrap()
        .insert("order#o-2@1".into());
    // No itemId: the inventory reservation of o-1 cannot be built.
    let unbuildable = stored("order", "o-1", 1, "OrderCreated", "Created", json!({}));
    let report = world
        .processor
        .process(records(vec![
            RecordBody::Malformed {
                key: Some(AggregateKey::new("order", "o-9")),
                reason: "no version".into(),
            },
            RecordBody::Event(unbuildable),
            RecordBody::Event(order("o-2", 1)),
        ]))
        .await;
    assert!(report.all_finished(), "{report:?}");
    let recorded = world.failures.recorded.lock().unwrap();
    let mut codes: Vec<&str> = recorded.iter().map(|f| f.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(
        codes,
        ["malformed_event", "publish_failed", "reaction_failed"]
    );
    for failure in recorded.iter() {
        assert_eq!(failure.failed_at, NOW, "{}", failure.message_id);
    }
}
