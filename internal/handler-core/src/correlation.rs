//! Following one flow from its root aggregate through its reactions and
//! alarms (`cmdctl trace --root`), with no scan: a reaction's command id is
//! derived from its event (`{pk}@{version}/{index}`, docs/reference.md §2),
//! so each event's reactions, rebuilt from its type's config, name the
//! aggregate and command id of the events they caused; an alarm's command
//! id is derived from the event that set it (stored with the event).
//!
//! Cost: one read of the history of each aggregate the flow touches (the
//! root's included), whatever the size of the store. The reactions are
//! rebuilt from today's configs: a `then` changed since the flow ran is
//! followed as it is now, and a type without a config is not followed.

use std::collections::{HashMap, VecDeque};

use serde_json::Map;
use state_machine::AggregateState;

use crate::config_source::{ConfigSource, ConfigSourceError};
use crate::model::AggregateKey;
use crate::store::{EventStore, StoreError, all_events};
use crate::stored_event::StoredEvent;

/// Why a walk stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WalkError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A config could not be read (a type without one is not followed).
    #[error(transparent)]
    Config(#[from] ConfigSourceError),
}

/// Up to `limit` events of the correlation: the root aggregate's events
/// whose `commandId` or metadata `correlationId` is the id, then every event
/// their reactions caused, and so on; ordered by `recordedAt`, then
/// aggregate, then version.
///
/// # Errors
/// The store or a config source failed.
pub async fn walk_correlation<S, C>(
    store: &S,
    configs: &C,
    root: &AggregateKey,
    correlation_id: &str,
    limit: usize,
) -> Result<Vec<StoredEvent>, WalkError>
where
    S: EventStore + ?Sized,
    C: ConfigSource + ?Sized,
{
    let mut histories: HashMap<AggregateKey, Vec<StoredEvent>> = HashMap::new();
    let mut queue: VecDeque<StoredEvent> = history(store, configs, root, &mut histories)
        .await?
        .iter()
        .filter(|e| {
            e.event.command_id == correlation_id
                || e.event
                    .metadata
                    .get("correlationId")
                    .and_then(|v| v.as_str())
                    == Some(correlation_id)
        })
        .cloned()
        .collect();
    let mut found = Vec::new();
    while let Some(stored) = queue.pop_front() {
        if found.len() >= limit {
            break;
        }
        let reactions = match configs.state_machine(&stored.key.aggregate_type).await {
            Ok(machine) => machine.reactions(&stored.view()),
            Err(e) if e.is_permanent() => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        // A due alarm is a command to its own aggregate, with an id derived
        // from the event that set it: followed as a reaction is.
        let alarms = stored
            .event
            .alarms
            .iter()
            .flat_map(|c| &c.set)
            .map(|alarm| {
                state_machine::alarm_command(
                    &stored.key.aggregate_type,
                    &stored.key.aggregate_id,
                    alarm,
                )
            });
        // A reaction built now by a config of another version than the one
        // that recorded the event has an id of its own (`.../v{N}/{index}`);
        // the one sent then had the plain id, which is looked for too.
        let event_id = stored.event_id();
        let recorded_by = stored.event.config_version;
        let reactions = reactions
            .into_iter()
            .enumerate()
            .filter_map(|(index, built)| {
                built.ok().map(|command| {
                    let plain = state_machine::ids::reaction_command_id(
                        &event_id,
                        index,
                        recorded_by,
                        recorded_by,
                    );
                    (command, Some(plain))
                })
            });
        for (command, plain) in reactions.chain(alarms.map(|c| (c, None))) {
            let key = AggregateKey::new(&command.aggregate_type, &command.aggregate_id);
            let caused = history(store, configs, &key, &mut histories)
                .await?
                .iter()
                .filter(|e| {
                    e.event.command_id == command.command_id
                        || plain.as_deref() == Some(e.event.command_id.as_str())
                })
                .cloned();
            queue.extend(caused);
        }
        found.push(stored);
    }
    found.sort_by(|a, b| {
        (&a.event.recorded_at, &a.key, a.event.version).cmp(&(
            &b.event.recorded_at,
            &b.key,
            b.event.version,
        ))
    });
    Ok(found)
}

/// The aggregate's events with the data after each (folded from its
/// config's initial state, as the handler folds), read once per walk.
async fn history<'h, S, C>(
    store: &S,
    configs: &C,
    key: &AggregateKey,
    histories: &'h mut HashMap<AggregateKey, Vec<StoredEvent>>,
) -> Result<&'h [StoredEvent], WalkError>
where
    S: EventStore + ?Sized,
    C: ConfigSource + ?Sized,
{
    if !histories.contains_key(key) {
        let mut state = match configs.state_machine(&key.aggregate_type).await {
            Ok(machine) => machine.initial_state(),
            Err(e) if e.is_permanent() => AggregateState {
                state: String::new(),
                version: 0,
                data: Map::new(),
                alarms: Default::default(),
            },
            Err(e) => return Err(e.into()),
        };
        let events = all_events(store, key).await?;
        let stored = events
            .into_iter()
            .map(|event| {
                event.apply_to(&mut state);
                StoredEvent {
                    key: key.clone(),
                    event,
                    data: state.data.clone(),
                }
            })
            .collect();
        histories.insert(key.clone(), stored);
    }
    Ok(histories.get(key).map_or(&[], Vec::as_slice))
}
