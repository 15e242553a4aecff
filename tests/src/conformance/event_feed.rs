//! The checks every [`EventFeed`], [`Checkpoints`] and [`Correlations`] must
//! pass (they read what an [`EventStore`] appended, so they run on a store
//! that is all of them).

use std::collections::BTreeMap;

use handler_core::{
    AggregateKey, Checkpoints, Correlations, EventFeed, EventStore, FeedQuery, StoredEvent,
};

use super::commit_of;

/// A type's events come back page by page, each exactly once, each
/// aggregate's in version order with the data after each event; no other
/// type's; a read after the last cursor finds nothing; `since` keeps the
/// events recorded at or after it.
pub async fn events_are_fed_in_order<S: EventStore + EventFeed>(store: &S) {
    let kind = format!("feed{}", std::process::id());
    let mut written: BTreeMap<AggregateKey, Vec<StoredEvent>> = BTreeMap::new();
    for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
        let key = AggregateKey::new(kind.clone(), *id);
        let mut head = None;
        // Two commits each (1 then i + 1 events), the second a day later.
        for (round, n) in [(0u64, 1u64), (1, i as u64 + 1)] {
            let mut commit = commit_of(&key, head.as_ref(), n, &format!("{kind}-{id}-{round}"));
            for event in &mut commit.events {
                event.recorded_at = format!("2026-11-2{}T00:00:00.000Z", 1 + round);
            }
            store.append(&commit).await.expect("append");
            let stored = commit
                .events
                .iter()
                .zip(&commit.data_after)
                .map(|(event, data)| StoredEvent {
                    key: key.clone(),
                    event: event.clone(),
                    data: data.clone(),
                });
            written.entry(key.clone()).or_default().extend(stored);
            head = Some(commit.head);
        }
    }
    let other = AggregateKey::new(format!("{kind}x"), "a");
    store
        .append(&commit_of(&other, None, 2, &format!("{kind}x")))
        .await
        .expect("append");

    let query = FeedQuery {
        aggregate_type: Some(kind.clone()),
        since: None,
    };
    let (read, last) = read_all(store, &query, None, 3).await;
    let mut by_aggregate: BTreeMap<AggregateKey, Vec<StoredEvent>> = BTreeMap::new();
    for event in read {
        by_aggregate
            .entry(event.key.clone())
            .or_default()
            .push(event);
    }
    assert_eq!(
        by_aggregate, written,
        "each event once, in version order per aggregate, with its data, no other type's"
    );
    let after_end = store
        .read(&query, last.as_deref(), 3)
        .await
        .expect("read after the end");
    assert!(after_end.events.is_empty(), "{after_end:?}");

    let since = FeedQuery {
        aggregate_type: Some(kind.clone()),
        since: Some("2026-11-22T00:00:00.000Z".into()),
    };
    let (late, _) = read_all(store, &since, None, 2).await;
    let want: usize = written.values().map(|events| events.len() - 1).sum();
    assert_eq!(late.len(), want, "the second commits' events only");
    assert!(
        late.iter()
            .all(|e| e.event.recorded_at.starts_with("2026-11-22"))
    );
}

/// Reads pages of `page` after `after` until the feed says no more; checks
/// each page's limit and that a page with events has a cursor.
async fn read_all<S: EventFeed>(
    store: &S,
    query: &FeedQuery,
    mut after: Option<String>,
    page: usize,
) -> (Vec<StoredEvent>, Option<String>) {
    let mut read = Vec::new();
    for _ in 0..1000 {
        let got = store
            .read(query, after.as_deref(), page)
            .await
            .expect("read");
        assert!(got.events.len() <= page, "a page holds at most its limit");
        if !got.events.is_empty() {
            assert!(got.cursor.is_some(), "a page with events has a cursor");
        }
        read.extend(got.events);
        if got.cursor.is_some() {
            after = got.cursor;
        }
        if !got.more {
            return (read, after);
        }
    }
    panic!("the feed never ended");
}

/// A checkpoint reads back what was saved last under its name, and names do
/// not share.
pub async fn checkpoints_are_kept_by_name<S: Checkpoints>(store: &S) {
    let name = format!("conformance-{}", std::process::id());
    assert_eq!(store.checkpoint(&name).await.expect("read"), None);
    store.save_checkpoint(&name, "c1").await.expect("save");
    store
        .save_checkpoint(&format!("{name}-other"), "x")
        .await
        .expect("save");
    assert_eq!(
        store.checkpoint(&name).await.expect("read").as_deref(),
        Some("c1")
    );
    store.save_checkpoint(&name, "c2").await.expect("save");
    assert_eq!(
        store.checkpoint(&name).await.expect("read").as_deref(),
        Some("c2")
    );
}

/// A correlation's events are found by metadata `correlationId` and by the
/// root's `commandId`, in (recordedAt, aggregate, version) order, across
/// aggregates; others are not.
pub async fn correlations_are_found<S: EventStore + Correlations>(store: &S) {
    let corr = format!("corr-{}", std::process::id());
    // `commit_of` gives every event metadata `correlationId` = its prefix.
    let root = AggregateKey::new("traced", format!("root-{corr}"));
    let mut commit = commit_of(&root, None, 1, "root");
    commit.events[0].command_id = corr.clone();
    commit.commands[0].command_id = corr.clone();
    commit.events[0].metadata.clear();
    commit.events[0].recorded_at = "2026-11-21T00:00:00.000Z".into();
    store.append(&commit).await.expect("append");
    for id in ["z", "y"] {
        let key = AggregateKey::new("traced", format!("{id}-{corr}"));
        let mut commit = commit_of(&key, None, 2, &corr);
        commit.events[1].recorded_at = "2026-11-22T00:00:00.000Z".into();
        store.append(&commit).await.expect("append");
    }
    let unrelated = AggregateKey::new("traced", format!("u-{corr}"));
    store
        .append(&commit_of(&unrelated, None, 1, &format!("{corr}-not")))
        .await
        .expect("append");

    let found = store.correlated(&corr, 100).await.expect("correlated");
    let got: Vec<(String, u64)> = found
        .iter()
        .map(|e| (e.key.aggregate_id.clone(), e.event.version))
        .collect();
    let want: Vec<(String, u64)> = [
        (format!("root-{corr}"), 1),
        (format!("y-{corr}"), 1),
        (format!("z-{corr}"), 1),
        (format!("y-{corr}"), 2),
        (format!("z-{corr}"), 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(got, want);
    assert_eq!(store.correlated(&corr, 2).await.expect("limit").len(), 2);
}
