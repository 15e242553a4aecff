//! The order of one correlation's events: each event after its cause (`causationId`)
//! and after its own aggregate's earlier events, then by time. Timestamps
//! alone cannot order a flow: a reaction is often stored within the same
//! millisecond as its cause, and clocks differ between Lambdas.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use handler_core::StoredEvent;

/// `events` (in the store's order: time, aggregate, version) in causal
/// order, each event once.
pub fn causal_order(events: Vec<StoredEvent>) -> Vec<StoredEvent> {
    let mut seen = BTreeSet::new();
    let events: Vec<StoredEvent> = events
        .into_iter()
        .filter(|e| seen.insert(e.event_id()))
        .collect();
    let index: HashMap<String, usize> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.event_id(), i))
        .collect();
    // Each event's predecessors among `events`: its cause, and the latest
    // earlier event of its own aggregate.
    let mut waiting = vec![0_usize; events.len()];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); events.len()];
    let mut latest: HashMap<String, usize> = HashMap::new();
    let mut by_version: Vec<usize> = (0..events.len()).collect();
    by_version.sort_by_key(|&i| (events[i].key.to_string(), events[i].event.version));
    for &i in &by_version {
        let key = events[i].key.to_string();
        if let Some(&before) = latest.get(&key) {
            next[before].push(i);
            waiting[i] += 1;
        }
        latest.insert(key, i);
        let cause = events[i]
            .event
            .metadata
            .get("causationId")
            .and_then(|v| v.as_str())
            .and_then(|c| index.get(c));
        if let Some(&cause) = cause
            && cause != i
        {
            next[cause].push(i);
            waiting[i] += 1;
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..events.len())
        .filter(|&i| waiting[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(events.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &j in &next[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    // A cycle of causes cannot be stored; should one appear, what is left
    // keeps the store's order.
    let placed: BTreeSet<usize> = order.iter().copied().collect();
    order.extend((0..events.len()).filter(|i| !placed.contains(i)));
    let mut slots: Vec<Option<StoredEvent>> = events.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

#[cfg(test)]
mod tests {
    use handler_core::{AggregateKey, Event};
    use serde_json::{Map, json};

    use super::*;

    fn stored(aggregate: (&str, &str), version: u64, cause: Option<&str>) -> StoredEvent {
        let mut metadata = Map::new();
        if let Some(cause) = cause {
            metadata.insert("causationId".into(), json!(cause));
        }
        StoredEvent {
            key: AggregateKey::new(aggregate.0, aggregate.1),
            event: Event {
                alarms: None,
                version,
                event_type: format!("E{version}"),
                state: "S".to_owned(),
                payload: Map::new(),
                command_id: format!("c-{version}"),
                metadata,
                recorded_at: "2025-01-01T00:00:00.000Z".to_owned(),
                config_version: 1,
            },
            data: Map::new(),
        }
    }

    fn ids(events: &[StoredEvent]) -> Vec<String> {
        events.iter().map(StoredEvent::event_id).collect()
    }

    #[test]
    fn each_event_follows_its_cause_and_its_aggregates_earlier_events_once() {
        let order1 = stored(("order", "o-1"), 1, None);
        let cause = order1.event_id();
        let item1 = stored(("item", "i-1"), 1, Some(&cause));
        let item_id = item1.event_id();
        let order2 = stored(("order", "o-1"), 2, Some(&item_id));
        // The store's order (same millisecond): the reaction's effect first,
        // the order's second event before its cause, and one duplicate.
        let given = vec![order2.clone(), item1.clone(), order1.clone(), item1.clone()];
        assert_eq!(
            ids(&causal_order(given)),
            ids(&[order1, item1, order2]),
            "cause before effect, each once"
        );
    }

    #[test]
    fn unrelated_events_keep_the_stores_order() {
        let a = stored(("order", "o-1"), 1, None);
        let b = stored(("order", "o-2"), 1, None);
        assert_eq!(ids(&causal_order(vec![b.clone(), a.clone()])), ids(&[b, a]));
    }
}
