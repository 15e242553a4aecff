//! One aggregate's run of messages within a batch: load the head once, decide
//! every command in memory in order, append the events in as few atomic
//! commits as the store's limits allow, and start again from a fresh load
//! when another writer got there first.
//!
//! The store says what each command adds to a commit and what it may hold
//! ([`EventStore::sizing`]); a command with an item over its item limit is
//! refused alone as `too_large` before anything is written.
//!
//! When the store refuses a commit as too large although its sizing let it
//! through, the commands are planned again one per commit, so that only the
//! command that cannot be written on its own is refused as `too_large`; the
//! others apply (each refused command is left out and the rest decided again).

use std::collections::HashMap;
use std::sync::Arc;

use state_machine::{AggregateState, CommandInput, Rejection, Stale, StateMachine, Timestamp};

use crate::hold_back::HoldBack;
use crate::retry::RetryPolicy;
use handler_core::batch::Applied;
use handler_core::clock::{Clock, rfc3339_millis};
use handler_core::commit_size::{CommitSizing, Footprint};
use handler_core::config_source::ConfigSourceError;
use handler_core::envelope::Command;
use handler_core::failure::{Failure, Permanent, Transient};
use handler_core::model::{AggregateKey, CommandRecord, Commit, Event, fingerprint};
use handler_core::store::{AppendError, EventStore};

/// A parsed message waiting for its outcome.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pending<'a> {
    pub(crate) message_id: &'a str,
    pub(crate) command: &'a Command,
}

type Outcome = Result<Applied, Failure>;

/// Runs `pending` (all for `key`, in order) and returns their outcomes in
/// the same order.
pub(crate) async fn run_aggregate<S: EventStore + ?Sized>(
    store: &S,
    machine: Result<Arc<StateMachine>, ConfigSourceError>,
    policy: &RetryPolicy,
    clock: &dyn Clock,
    key: &AggregateKey,
    pending: &[Pending<'_>],
    fifo: bool,
) -> Vec<Outcome> {
    let machine = match machine {
        Ok(m) => m,
        Err(e) => return vec![Err(Failure::from(e)); pending.len()],
    };
    // Outcomes that no later attempt may change: commands whose commit
    // succeeded in an earlier attempt.
    let mut settled: Vec<Option<Outcome>> = vec![None; pending.len()];
    // Attempts lost to other writers (the first attempt counts as one).
    let mut attempt = 1;
    // One command per commit, after the store refused a commit as too large.
    let mut one_per_commit = false;
    loop {
        let ids: Vec<String> = pending
            .iter()
            .zip(&settled)
            .filter(|(_, s)| s.is_none())
            .map(|(p, _)| p.command.command_id.clone())
            .collect();
        let loaded = match store.load(key, &ids).await {
            Ok(l) => l,
            Err(e) => return fill(settled, Err(Transient::Store(e).into())),
        };
        let head = loaded.head.unwrap_or_else(|| machine.initial_state());
        let known: HashMap<&str, &CommandRecord> = loaded
            .commands
            .iter()
            .map(|r| (r.command_id.as_str(), r))
            .collect();
        let plan = plan(
            &machine,
            clock.now(),
            key,
            head,
            &known,
            pending,
            &settled,
            fifo,
            store.sizing(),
            one_per_commit,
        );
        let mut planned = plan.outcomes;

        let mut lost_race = false;
        let mut replan = false;
        let mut chunks = plan.chunks.into_iter();
        while let Some(chunk) = chunks.next() {
            let failure: Failure = match store.append(&chunk.commit).await {
                Ok(()) => {
                    for (pos, (s, p)) in settled.iter_mut().zip(&mut planned).enumerate() {
                        if chunk.has(pos) {
                            *s = p.take();
                        }
                    }
                    continue;
                }
                Err(AppendError::Conflict { .. }) if policy.may_retry_after(attempt) => {
                    lost_race = true;
                    break;
                }
                Err(AppendError::Conflict { .. }) => {
                    Transient::ConflictRetriesExhausted { attempts: attempt }.into()
                }
                Err(AppendError::TooLarge(_)) if chunk.members.len() > 1 => {
                    // Which of its commands is too large is not known: try
                    // each on its own. Nothing was written.
                    one_per_commit = true;
                    replan = true;
                    break;
                }
                Err(AppendError::TooLarge(reason)) => {
                    // This command alone is too large. The later ones were
                    // decided after it: decide them again without it.
                    for (pos, s) in settled.iter_mut().enumerate() {
                        if chunk.has(pos) {
                            *s = Some(Err(Permanent::TooLarge(reason.clone()).into()));
                        }
                    }
                    one_per_commit = true;
                    replan = true;
                    break;
                }
                Err(AppendError::Store(e)) => Transient::Store(e).into(),
            };
            // This commit wrote nothing, and later ones build on it.
            let mut hold = HoldBack::later_commits();
            hold.failed(chunk.first);
            let held = hold.held();
            let later: Vec<Chunk<'_>> = match held {
                Some(_) => chunks.by_ref().collect(),
                None => Vec::new(),
            };
            for (pos, p) in planned.iter_mut().enumerate() {
                if chunk.has(pos) {
                    *p = Some(Err(failure.clone()));
                } else if let Some(held) = &held
                    && later.iter().any(|c| c.has(pos))
                {
                    *p = Some(Err(held.clone()));
                }
            }
        }
        if lost_race {
            tokio::time::sleep(policy.backoff(attempt)).await;
            attempt += 1;
            continue;
        }
        if replan {
            continue;
        }
        for (s, p) in settled.iter_mut().zip(planned) {
            if s.is_none() {
                *s = p;
            }
        }
        return fill(settled, Err(Transient::DeadlineReached.into()));
    }
}

fn fill(settled: Vec<Option<Outcome>>, default: Outcome) -> Vec<Outcome> {
    settled
        .into_iter()
        .map(|s| s.unwrap_or_else(|| default.clone()))
        .collect()
}

/// One atomic append and the positions (in `pending`) of its commands.
struct Chunk<'a> {
    commit: Commit,
    /// The message id of its first command (a chunk is made for a command).
    first: &'a str,
    /// Ascending.
    members: Vec<usize>,
    /// What its commands add, in the store's counting (what the commit adds
    /// once comes on top).
    size: Footprint,
}

impl Chunk<'_> {
    /// Whether the command at `pos` (in `pending`) is in this chunk.
    fn has(&self, pos: usize) -> bool {
        self.members.binary_search(&pos).is_ok()
    }
}

struct Plan<'a> {
    /// The outcome each unsettled command will have if its chunk commits.
    outcomes: Vec<Option<Outcome>>,
    chunks: Vec<Chunk<'a>>,
}

/// Decides every unsettled command in memory, in order, from `head`.
#[allow(clippy::too_many_arguments)]
fn plan<'a>(
    machine: &Arc<StateMachine>,
    now: Timestamp,
    key: &AggregateKey,
    head: AggregateState,
    known: &HashMap<&str, &CommandRecord>,
    pending: &[Pending<'a>],
    settled: &[Option<Outcome>],
    fifo: bool,
    sizing: &dyn CommitSizing,
    one_per_commit: bool,
) -> Plan<'a> {
    let limits = sizing.limits();
    let recorded_at = rfc3339_millis(now);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; pending.len()];
    let mut chunks: Vec<Chunk<'a>> = Vec::new();
    let mut current: Option<Chunk<'a>> = None;
    let mut state = head;
    // Commands applied earlier in this plan, by id: (fingerprint, version).
    let mut in_plan: HashMap<&str, (String, u64)> = HashMap::new();
    let mut hold = HoldBack::message_group(fifo);

    for ((pos, p), (settled, planned)) in pending
        .iter()
        .enumerate()
        .zip(settled.iter().zip(outcomes.iter_mut()))
    {
        if let Some(outcome) = settled {
            // A command refused in an earlier attempt still holds back its
            // message group's later messages.
            if outcome.is_err() {
                hold.failed(p.message_id);
            }
            continue;
        }
        let cmd = p.command;
        if let Some(held) = hold.held() {
            *planned = Some(Err(held));
            continue;
        }
        let fp = fingerprint(key, &cmd.command, &cmd.payload);
        let earlier = known
            .get(cmd.command_id.as_str())
            .map(|r| (r.fingerprint.clone(), r.version, r.key.to_string()))
            .or_else(|| {
                in_plan
                    .get(cmd.command_id.as_str())
                    .map(|(f, v)| (f.clone(), *v, key.to_string()))
            });
        let outcome: Outcome = match earlier {
            Some((f, version, _)) if f == fp => Ok(Applied {
                stale: None,
                version,
                duplicate: true,
            }),
            Some((_, _, applied_to)) => Err(Permanent::CommandIdReused {
                command_id: cmd.command_id.clone(),
                applied_to,
            }
            .into()),
            None => decide(machine, &state, cmd, now, &recorded_at).and_then(|decided| {
                let (event, next) = match decided {
                    Decided::Stale(why) => {
                        // A fired alarm with no effect: acknowledged, nothing written.
                        return Ok(Applied {
                            version: state.version,
                            duplicate: false,
                            stale: Some(why),
                        });
                    }
                    Decided::Event(decided) => *decided,
                };
                let record = CommandRecord {
                    command_id: cmd.command_id.clone(),
                    key: key.clone(),
                    fingerprint: fp.clone(),
                    version: next.version,
                };
                let added = check_item_sizes(sizing, key, state.version, &event, &record, &next)?;
                check_publication(machine, key, &event)?;
                if let Some(c) = &current {
                    let once = sizing.commit(key, c.commit.expected_version, &next);
                    if one_per_commit || !limits.admit(c.size + added + once) {
                        chunks.extend(current.take());
                    }
                }
                let chunk = current.get_or_insert_with(|| Chunk {
                    commit: Commit {
                        key: key.clone(),
                        expected_version: state.version,
                        events: Vec::new(),
                        commands: Vec::new(),
                        data_after: Vec::new(),
                        head: state.clone(),
                    },
                    first: p.message_id,
                    members: Vec::new(),
                    size: Footprint::default(),
                });
                chunk.size = chunk.size + added;
                chunk.commit.commands.push(record);
                chunk.commit.events.push(event);
                chunk.commit.data_after.push(next.data.clone());
                chunk.commit.head = next.clone();
                chunk.members.push(pos);
                in_plan.insert(&cmd.command_id, (fp, next.version));
                let version = next.version;
                state = next;
                Ok(Applied {
                    stale: None,
                    version,
                    duplicate: false,
                })
            }),
        };
        if outcome.is_err() {
            hold.failed(p.message_id);
        }
        *planned = Some(outcome);
    }
    chunks.extend(current);
    Plan { outcomes, chunks }
}

/// What a new command does.
enum Decided {
    /// It records this event, leaving the aggregate in this state.
    Event(Box<(Event, AggregateState)>),
    /// It is a fired alarm with no effect.
    Stale(Stale),
}

/// Decides one new command against `state`: the event it records and the
/// state after it, a stale alarm, or why it is refused.
fn decide(
    machine: &StateMachine,
    state: &AggregateState,
    cmd: &Command,
    now: Timestamp,
    recorded_at: &str,
) -> Result<Decided, Failure> {
    if let Some(expected) = cmd.expected_version
        && expected != state.version
    {
        return Err(Permanent::VersionMismatch {
            expected,
            actual: state.version,
        }
        .into());
    }
    let input = CommandInput {
        aggregate_type: &cmd.key.aggregate_type,
        aggregate_id: &cmd.key.aggregate_id,
        command: &cmd.command,
        payload: &cmd.payload,
        metadata: &cmd.metadata,
        now,
    };
    let decision = match machine.decide_command(state, &input) {
        Ok(decision) => decision,
        Err(Rejection::Stale { why, .. }) => return Ok(Decided::Stale(why)),
        Err(rejection) => return Err(Permanent::from(rejection).into()),
    };
    // With a `set`, the computed payload is stored and folded, so a replay
    // never evaluates a rule; the fingerprint stays over the command as sent.
    let payload = decision.payload.unwrap_or_else(|| cmd.payload.clone());
    // An alarm set without a correlation id carries the setting command's
    // id, as a reaction would.
    let alarms = decision.alarms.map(|mut changes| {
        for alarm in &mut changes.set {
            alarm
                .correlation_id
                .get_or_insert_with(|| cmd.command_id.clone());
        }
        changes
    });
    let event = Event {
        version: state.version.saturating_add(1),
        event_type: decision.event_type,
        state: decision.to_state,
        payload,
        command_id: cmd.command_id.clone(),
        metadata: cmd.metadata.clone(),
        recorded_at: recorded_at.to_owned(),
        config_version: machine.version(),
        alarms,
    };
    // The one fold of an event, as every replay of it folds it.
    let mut next = state.clone();
    event.apply_to(&mut next);
    Ok(Decided::Event(Box::new((event, next))))
}

/// `too_large` when the event's type publishes and its bus entry (as the
/// event processor would build it) is over the bus's limit: such an event
/// could never be published, so it is not stored (issue 20 item 1).
fn check_publication(
    machine: &StateMachine,
    key: &AggregateKey,
    event: &Event,
) -> Result<(), Failure> {
    if !machine.publishes() {
        return Ok(());
    }
    let bytes = handler_core::publication::entry_bytes(key, event);
    let max = handler_core::publication::PUBLICATION_LIMIT_BYTES;
    if bytes > max {
        return Err(Permanent::TooLarge(format!(
            "the event's publication would be {bytes} bytes, over the bus's {max}-byte entry limit, and its type publishes"
        ))
        .into());
    }
    Ok(())
}

/// What a decided command adds to a commit, by the store's counting; or
/// `too_large` when one of its items, or one the commit writes once with the
/// state after it, would exceed the store's item limit.
fn check_item_sizes(
    sizing: &dyn CommitSizing,
    key: &AggregateKey,
    version_before: u64,
    event: &Event,
    record: &CommandRecord,
    after: &AggregateState,
) -> Result<Footprint, Failure> {
    let max = sizing.limits().max_item_bytes;
    let added = sizing.command(key, event, record, after);
    if added.largest_item > max {
        return Err(Permanent::TooLarge(format!(
            "the event would be {} bytes, over the store's {max}-byte item limit",
            added.largest_item
        ))
        .into());
    }
    let once = sizing.commit(key, version_before, after);
    if once.largest_item > max {
        return Err(Permanent::TooLarge(format!(
            "the aggregate's state would grow to {} bytes, over the store's {max}-byte item limit",
            once.largest_item
        ))
        .into());
    }
    Ok(added)
}
