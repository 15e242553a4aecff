//! The check every [`AggregateIndex`] must pass (it lists what an
//! [`EventStore`] appended, so it runs on a store that is both).

use handler_core::{AggregateIndex, AggregateKey, EventStore};

use super::commit_of;

/// The aggregates of a type are listed page by page in the store's order,
/// the same on every call, each exactly once across the pages, and no other
/// type's.
pub async fn aggregates_are_listed_by_type<S: EventStore + AggregateIndex>(store: &S) {
    let kind = format!("listing{}", std::process::id());
    let ids: Vec<String> = (0..12).map(|i| format!("agg-{i:02}")).collect();
    for id in &ids {
        let key = AggregateKey::new(kind.clone(), id.clone());
        let events = if id.ends_with('3') { 2 } else { 1 };
        store
            .append(&commit_of(&key, None, events, &format!("{kind}-{id}")))
            .await
            .expect("append");
    }
    let other = AggregateKey::new(format!("{kind}x"), "agg-00");
    store
        .append(&commit_of(&other, None, 1, &format!("{kind}x-a")))
        .await
        .expect("append");

    let mut listed = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .list_aggregates(&kind, after.as_deref(), 5)
            .await
            .expect("list");
        assert!(page.len() <= 5, "a page holds at most its limit");
        for a in &page {
            let (version, state) = if a.aggregate_id.ends_with('3') {
                (2, "Even")
            } else {
                (1, "Odd")
            };
            assert_eq!((a.version, a.state.as_str()), (version, state), "{a:?}");
        }
        after = page.last().map(|a| a.aggregate_id.clone());
        listed.extend(page.into_iter().map(|a| a.aggregate_id));
        if after.is_none() {
            break;
        }
        assert!(
            listed.len() <= ids.len(),
            "the listing never ends: {listed:?}"
        );
    }
    let mut sorted = listed.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), listed.len(), "listed twice: {listed:?}");
    assert_eq!(sorted, ids, "each aggregate of the type, and no other");

    let again: Vec<String> = store
        .list_aggregates(&kind, None, 100)
        .await
        .expect("list")
        .into_iter()
        .map(|a| a.aggregate_id)
        .collect();
    assert_eq!(again, listed, "the same order on every call");
    let last = listed.last().expect("listed");
    assert!(
        store
            .list_aggregates(&kind, Some(last), 10)
            .await
            .expect("list")
            .is_empty(),
        "nothing after the last"
    );
    assert!(
        store
            .list_aggregates("nothing", None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}
