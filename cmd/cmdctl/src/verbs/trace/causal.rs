//! The order `trace` prints: each event after its cause (`causationId`)
//! and after its own aggregate's earlier events, then by time. Timestamps
//! alone cannot order a flow: a reaction is often stored within the same
//! millisecond as its cause, and clocks differ between Lambdas.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};

use handler_core::StoredEvent;

/// `events` (in the store's order: time, aggregate, version) in causal
/// order, each event once.
pub(crate) fn causal_order(events: Vec<StoredEvent>) -> Vec<StoredEvent> {
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
