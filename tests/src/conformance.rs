//! The event-store conformance suite: the checks every [`EventStore`]
//! implementation must pass here, those of the [`FailureLog`] in
//! [`failure_log`], those of the [`AggregateIndex`] in
//! [`aggregate_index`], those of the event feed, checkpoints and
//! correlations in [`event_feed`], and that alarms survive in [`alarms`].
//! Run them all for a store with
//! [`event_store_conformance!`](crate::event_store_conformance), which makes
//! one test per check.
//!
//! [`FailureLog`]: handler_core::FailureLog
//! [`AggregateIndex`]: handler_core::AggregateIndex

mod aggregate_index;
mod alarms;
mod event_feed;
mod failure_log;

pub use aggregate_index::aggregates_are_listed_by_type;
pub use alarms::alarms_survive_an_append;
pub use event_feed::{
    checkpoints_are_kept_by_name, correlations_are_found, events_are_fed_in_order,
};
pub use failure_log::failures_are_recorded;

use handler_core::state_machine::AggregateState;
use handler_core::{
    AggregateKey, AppendError, CommandRecord, Commit, Event, EventStore, Footprint, all_events,
};
use serde_json::{Map, Value, json};

/// A commit of `n` events continuing `head` (or a new aggregate), one command
/// record per event with ids `{prefix}-{version}`.
pub fn commit_of(
    key: &AggregateKey,
    head: Option<&AggregateState>,
    n: u64,
    prefix: &str,
) -> Commit {
    padded_commit_of(key, head, n, prefix, 0)
}

/// [`commit_of`] with `pad` bytes of filler in each event's payload.
pub fn padded_commit_of(
    key: &AggregateKey,
    head: Option<&AggregateState>,
    n: u64,
    prefix: &str,
    pad: usize,
) -> Commit {
    let mut state = head.cloned().unwrap_or(AggregateState {
        alarms: Default::default(),
        state: "New".into(),
        version: 0,
        data: Map::new(),
    });
    let expected_version = state.version;
    let mut events = Vec::new();
    let mut commands = Vec::new();
    let mut data_after = Vec::new();
    for _ in 0..n {
        let version = state.version + 1;
        let mut payload = obj(json!({ "n": version, "last": format!("{prefix}-{version}") }));
        if pad > 0 {
            payload.insert(
                format!("pad{}", version % 3),
                Value::String("p".repeat(pad)),
            );
        }
        let to = if version % 2 == 0 { "Even" } else { "Odd" };
        state.apply(to, &payload);
        let command_id = format!("{prefix}-{version}");
        events.push(Event {
            alarms: None,
            version,
            event_type: "Counted".into(),
            state: to.into(),
            payload,
            command_id: command_id.clone(),
            metadata: obj(json!({ "correlationId": prefix })),
            recorded_at: "2026-11-21T00:00:00.000Z".into(),
            config_version: 1,
        });
        commands.push(CommandRecord {
            command_id,
            key: key.clone(),
            fingerprint: format!("fp-{version}"),
            version,
        });
        data_after.push(state.data.clone());
    }
    Commit {
        key: key.clone(),
        expected_version,
        events,
        commands,
        data_after,
        head: state,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A key unique to one check, so that checks may share a store.
pub fn key(check: &str) -> AggregateKey {
    AggregateKey::new("conformance", format!("{check}-{}", std::process::id()))
}

/// Appends and loads: the head, the events with every attribute, paging.
pub async fn append_and_load<S: EventStore>(store: &S) {
    let key = key("append-and-load");
    let empty = store.load(&key, &[]).await.expect("load");
    assert_eq!(empty.head, None, "a new aggregate has no head");

    let first = commit_of(&key, None, 2, "al");
    store.append(&first).await.expect("first append");
    let loaded = store.load(&key, &[]).await.expect("load");
    assert_eq!(loaded.head.as_ref(), Some(&first.head));

    let events = store.events(&key, 0, 100).await.expect("events");
    assert_eq!(events, first.events, "events come back exactly as written");
    let after_first = store.events(&key, 1, 100).await.expect("events");
    assert_eq!(after_first, first.events[1..].to_vec());
    let one = store.events(&key, 0, 1).await.expect("events");
    assert_eq!(one.len(), 1, "limit is honoured");
}

/// Versions stay gapless over several appends.
pub async fn versions_are_gapless<S: EventStore>(store: &S) {
    let key = key("gapless");
    let mut head = None;
    for (i, n) in [1, 3, 2, 5].into_iter().enumerate() {
        let commit = commit_of(&key, head.as_ref(), n, &format!("g{i}"));
        store.append(&commit).await.expect("append");
        head = Some(commit.head);
    }
    let events = all_events(store, &key).await.expect("events");
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, (1..=11).collect::<Vec<_>>());
    let loaded = store
        .load(&key, &[])
        .await
        .expect("load")
        .head
        .expect("head");
    assert_eq!(loaded.version, 11);
    assert_eq!(Some(loaded), head);
}

/// A stale expected version is a conflict and writes nothing: no event, no
/// command record, no head change. (An expected version ahead of the head is
/// not checked: the trait asks for a version a load returned, and the DynamoDB
/// store conditions only the versions it writes.)
pub async fn stale_version_is_a_conflict_and_writes_nothing<S: EventStore>(store: &S) {
    let key = key("stale");
    let first = commit_of(&key, None, 1, "s1");
    store.append(&first).await.expect("append");

    for n in [1, 2] {
        let stale = commit_of(&key, None, n, &format!("s{}", n + 1));
        let err = store
            .append(&stale)
            .await
            .expect_err("stale append must fail");
        assert!(
            matches!(err, AppendError::Conflict { .. }),
            "expected a conflict, got {err:?}"
        );
    }

    let ids = vec!["s2-1".to_owned(), "s3-1".to_owned(), "s3-2".to_owned()];
    let loaded = store.load(&key, &ids).await.expect("load");
    assert_eq!(loaded.head.as_ref(), Some(&first.head), "head unchanged");
    assert!(loaded.commands.is_empty(), "no command record written");
    let events = all_events(store, &key).await.expect("events");
    assert_eq!(events, first.events, "no event written");
}

/// A multi-event append whose first version is taken writes none of the
/// later ones either, although they are free.
pub async fn multi_event_append_is_all_or_nothing<S: EventStore>(store: &S) {
    let key = key("atomic");
    let rival = commit_of(&key, None, 1, "atomic-rival");
    store.append(&rival).await.expect("append rival");

    let commit = commit_of(&key, None, 3, "atomic");
    let err = store.append(&commit).await.expect_err("must fail");
    assert!(
        matches!(&err, AppendError::Conflict { expected: 0, .. }),
        "expected a conflict, got {err:?}"
    );
    let ids: Vec<String> = commit
        .commands
        .iter()
        .map(|c| c.command_id.clone())
        .collect();
    let loaded = store.load(&key, &ids).await.expect("load");
    assert_eq!(loaded.head.as_ref(), Some(&rival.head), "head unchanged");
    assert!(loaded.commands.is_empty(), "no record of the failed commit");
    assert_eq!(
        all_events(store, &key).await.expect("events"),
        rival.events,
        "versions 2 and 3 not written"
    );
}

/// Command records are found by id within their aggregate only: the same id
/// may be applied to two aggregates, and each load sees its own.
pub async fn command_records_are_scoped_to_their_aggregate<S: EventStore>(store: &S) {
    let a = key("records-a");
    let b = key("records-b");
    let ca = commit_of(&a, None, 2, &format!("{}-ra", std::process::id()));
    let cb = commit_of(&b, None, 1, &format!("{}-rb", std::process::id()));
    store.append(&ca).await.expect("append a");
    store.append(&cb).await.expect("append b");
    let ids = vec![
        ca.commands[1].command_id.clone(),
        cb.commands[0].command_id.clone(),
        "never-applied".to_owned(),
    ];
    let found = store.load(&a, &ids).await.expect("load").commands;
    assert_eq!(found, vec![ca.commands[1].clone()], "a sees its own only");
    let found = store.load(&b, &ids).await.expect("load").commands;
    assert_eq!(found, vec![cb.commands[0].clone()], "b sees its own only");

    // The id of a's first command, applied to b as well.
    let mut again = commit_of(&b, Some(&cb.head), 1, "again");
    again.events[0].command_id = ca.commands[0].command_id.clone();
    again.commands[0].command_id = ca.commands[0].command_id.clone();
    store.append(&again).await.expect("the same id on b");
    let id = vec![ca.commands[0].command_id.clone()];
    let on_a = store.load(&a, &id).await.expect("load").commands;
    let on_b = store.load(&b, &id).await.expect("load").commands;
    assert_eq!(on_a, vec![ca.commands[0].clone()]);
    assert_eq!(on_b, again.commands);
}

/// A commit over the store's item limit is refused whole.
pub async fn oversized_commit_is_refused<S: EventStore>(store: &S) {
    let key = key("oversized");
    // One command more than items: over the limit however the store counts.
    let max = store.sizing().limits().max_items_per_commit as u64 + 1;
    let commit = commit_of(&key, None, max, "big");
    let err = store.append(&commit).await.expect_err("must fail");
    assert!(matches!(err, AppendError::TooLarge(_)), "{err:?}");
    assert_eq!(store.load(&key, &[]).await.expect("load").head, None);
}

/// An event over the store's item limit is refused whole, as too large.
pub async fn oversized_item_is_refused<S: EventStore>(store: &S) {
    let key = key("oversized-item");
    let max = store.sizing().limits().max_item_bytes;
    let commit = padded_commit_of(&key, None, 1, "huge", max + 1024);
    let err = store.append(&commit).await.expect_err("must fail");
    assert!(matches!(err, AppendError::TooLarge(_)), "{err:?}");
    assert_eq!(store.load(&key, &[]).await.expect("load").head, None);
}

/// An aggregate with `n` events (each padded with `pad` bytes) loads its
/// current state from the head, and its whole history pages back in order.
pub async fn long_history_loads<S: EventStore>(store: &S, n: u64, pad: usize) {
    let key = key(&format!("history-{n}"));
    let per_commit = commands_per_commit(store, &key);
    let mut head: Option<AggregateState> = None;
    let mut version = 0;
    let mut bytes = 0;
    while version < n {
        let take = per_commit.min(n - version);
        let commit = padded_commit_of(&key, head.as_ref(), take, &format!("h{version}"), pad);
        bytes += commit_size(store, &commit).bytes;
        store.append(&commit).await.expect("append");
        version += take;
        head = Some(commit.head);
    }
    let loaded = store
        .load(&key, &[])
        .await
        .expect("load")
        .head
        .expect("head");
    assert_eq!(loaded.version, n);
    assert_eq!(Some(&loaded), head.as_ref());

    let events = all_events(store, &key).await.expect("events");
    assert_eq!(events.len() as u64, n);
    eprintln!("long_history_loads: {n} events, about {bytes} bytes of items");
    assert!(
        events.iter().zip(1..).all(|(e, v)| e.version == v),
        "gapless, in order"
    );
    let mut folded = AggregateState {
        alarms: Default::default(),
        state: "New".into(),
        version: 0,
        data: Map::new(),
    };
    for e in &events {
        e.apply_to(&mut folded);
    }
    assert_eq!(folded, loaded, "the fold of the history equals the head");
}

/// How many of [`commit_of`]'s commands one commit of `store` holds, by the
/// store's own counting.
fn commands_per_commit<S: EventStore>(store: &S, key: &AggregateKey) -> u64 {
    let sizing = store.sizing();
    let sample = commit_of(key, None, 1, "sample");
    let once = sizing.commit(key, 0, &sample.head).items;
    let per_command = (commit_size(store, &sample).items - once).max(1);
    let room = sizing.limits().max_items_per_commit.saturating_sub(once);
    (room / per_command).max(1) as u64
}

/// A commit's size by the store's counting (each command sized with the
/// state after it).
pub fn commit_size<S: EventStore + ?Sized>(store: &S, commit: &Commit) -> Footprint {
    let sizing = store.sizing();
    commit
        .events
        .iter()
        .zip(&commit.commands)
        .zip(&commit.data_after)
        .map(|((e, r), data)| {
            let after = AggregateState {
                alarms: Default::default(),
                state: e.state.clone(),
                version: e.version,
                data: data.clone(),
            };
            sizing.command(&commit.key, e, r, &after)
        })
        .fold(
            sizing.commit(&commit.key, commit.expected_version, &commit.head),
            |total, added| total + added,
        )
}

/// Generates one `#[tokio::test]` per conformance check for a store.
/// `$make` is an expression whose value is a future yielding a fresh store.
///
/// ```
/// use store_sqlite::SqliteStore;
/// testkit::event_store_conformance!(sqlite, async { SqliteStore::in_memory().unwrap() }, history = 100);
/// ```
#[macro_export]
macro_rules! event_store_conformance {
    ($name:ident, $make:expr, history = $history:expr) => {
        $crate::event_store_conformance!($name, $make, history = $history, pad = 0);
    };
    ($name:ident, $make:expr, history = $history:expr, pad = $pad:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn append_and_load() {
                $crate::conformance::append_and_load(&$make.await).await;
            }
            #[tokio::test]
            async fn versions_are_gapless() {
                $crate::conformance::versions_are_gapless(&$make.await).await;
            }
            #[tokio::test]
            async fn stale_version_is_a_conflict_and_writes_nothing() {
                $crate::conformance::stale_version_is_a_conflict_and_writes_nothing(&$make.await)
                    .await;
            }
            #[tokio::test]
            async fn multi_event_append_is_all_or_nothing() {
                $crate::conformance::multi_event_append_is_all_or_nothing(&$make.await).await;
            }
            #[tokio::test]
            async fn command_records_are_scoped_to_their_aggregate() {
                $crate::conformance::command_records_are_scoped_to_their_aggregate(&$make.await)
                    .await;
            }
            #[tokio::test]
            async fn oversized_commit_is_refused() {
                $crate::conformance::oversized_commit_is_refused(&$make.await).await;
            }
            #[tokio::test]
            async fn failures_are_recorded() {
                $crate::conformance::failures_are_recorded(&$make.await).await;
            }
            #[tokio::test]
            async fn aggregates_are_listed_by_type() {
                $crate::conformance::aggregates_are_listed_by_type(&$make.await).await;
            }
            #[tokio::test]
            async fn events_are_fed_in_order() {
                $crate::conformance::events_are_fed_in_order(&$make.await).await;
            }
            #[tokio::test]
            async fn checkpoints_are_kept_by_name() {
                $crate::conformance::checkpoints_are_kept_by_name(&$make.await).await;
            }
            #[tokio::test]
            async fn correlations_are_found() {
                $crate::conformance::correlations_are_found(&$make.await).await;
            }
            #[tokio::test]
            async fn oversized_item_is_refused() {
                $crate::conformance::oversized_item_is_refused(&$make.await).await;
            }
            #[tokio::test]
            async fn alarms_survive_an_append() {
                $crate::conformance::alarms_survive_an_append(&$make.await).await;
            }
            #[tokio::test]
            async fn long_history_loads() {
                $crate::conformance::long_history_loads(&$make.await, $history, $pad).await;
            }
        }
    };
}
