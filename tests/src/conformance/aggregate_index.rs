//! The check every [`AggregateIndex`] must pass (it lists what an
//! [`EventStore`] appended, so it runs on a store that is both).

use handler_core::{AggregateIndex, AggregateKey, EventStore};

use super::commit_of;

/// The aggregates of a type are listed in id order, page by page, and no
/// other type's.
pub async fn aggregates_are_listed_by_type<S: EventStore + AggregateIndex>(store: &S) {
    let kind = format!("listing{}", std::process::id());
    for id in ["c", "a", "b", "d"] {
        let key = AggregateKey::new(kind.clone(), id);
        store
            .append(&commit_of(&key, None, 2, &format!("{kind}-{id}")))
            .await
            .expect("append");
    }
    let other = AggregateKey::new(format!("{kind}x"), "a");
    store
        .append(&commit_of(&other, None, 1, &format!("{kind}x-a")))
        .await
        .expect("append");

    let first = store.list_aggregates(&kind, None, 3).await.expect("list");
    let ids: Vec<&str> = first.iter().map(|a| a.aggregate_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert!(first.iter().all(|a| a.version == 2 && a.state == "Even"));
    let rest = store
        .list_aggregates(&kind, Some("c"), 3)
        .await
        .expect("list");
    let ids: Vec<&str> = rest.iter().map(|a| a.aggregate_id.as_str()).collect();
    assert_eq!(ids, ["d"]);
    assert!(
        store
            .list_aggregates("nothing", None, 10)
            .await
            .expect("list")
            .is_empty()
    );
}
