//! The batch's messages as a lane sees them: each message with its parse and
//! its own outcome slot ([`Entry`]), grouped into lanes (one per aggregate,
//! or per FIFO message group) and split into runs, so that a lane holds its
//! messages rather than positions, and an outcome cannot go to the wrong one.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::aggregate::Pending;
use handler_core::batch::{Applied, InboundMessage};
use handler_core::envelope::Command;
use handler_core::failure::{Failure, Transient};
use handler_core::model::AggregateKey;

/// A message's command: its body parsed, or the command its outside event's
/// binding built; or why there is none (a permanent refusal, or a config
/// that could not be read to find the binding).
pub(crate) type Parsed = Result<Command, Failure>;

pub(crate) type Outcome = Result<Applied, Failure>;

/// One message of the batch with its parse and its own [`Slot`], built once
/// by zipping the three, so that a lane holds its messages, not positions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) message: &'a InboundMessage,
    pub(crate) parsed: &'a Parsed,
    pub(crate) slot: &'a Slot,
}

/// Where one message's outcome goes, and the id its failure is known by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member<'a> {
    pub(crate) message_id: &'a str,
    pub(crate) slot: &'a Slot,
}

impl<'a> From<Entry<'a>> for Member<'a> {
    fn from(entry: Entry<'a>) -> Self {
        Self {
            message_id: &entry.message.message_id,
            slot: entry.slot,
        }
    }
}

/// A stretch of a lane decided together.
#[derive(Debug)]
pub(crate) enum Run<'a> {
    /// One message that gives no command.
    Unparsable {
        member: Member<'a>,
        error: &'a Failure,
    },
    /// The consecutive commands of one aggregate, in order.
    Aggregate {
        key: &'a AggregateKey,
        members: Vec<(Member<'a>, Pending<'a>)>,
    },
}

impl<'a> Run<'a> {
    /// Every message of the run failed as `failure`.
    pub(crate) fn fail_all(self, failure: &Failure) -> Vec<(Member<'a>, Outcome)> {
        match self {
            Run::Unparsable { member, .. } => vec![(member, Err(failure.clone()))],
            Run::Aggregate { members, .. } => members
                .into_iter()
                .map(|(member, _)| (member, Err(failure.clone())))
                .collect(),
        }
    }
}

/// Splits a lane into runs, keeping its order.
pub(crate) fn runs<'a>(lane: &[Entry<'a>]) -> Vec<Run<'a>> {
    let mut runs: Vec<Run<'a>> = Vec::new();
    for &entry in lane {
        let member = Member::from(entry);
        match entry.parsed {
            Err(error) => runs.push(Run::Unparsable { member, error }),
            Ok(command) => {
                let pending = Pending {
                    message_id: member.message_id,
                    command,
                };
                match runs.last_mut() {
                    Some(Run::Aggregate { key, members }) if **key == command.key => {
                        members.push((member, pending));
                    }
                    _ => runs.push(Run::Aggregate {
                        key: &command.key,
                        members: vec![(member, pending)],
                    }),
                }
            }
        }
    }
    runs
}

/// Where one message stands while the lanes run.
#[derive(Debug, Clone, Default)]
pub(crate) enum SlotState {
    /// Its run has not started.
    #[default]
    Waiting,
    /// Its aggregate is being worked on: its write may land at any moment.
    Running,
    /// Its outcome is known.
    Done(Outcome),
}

/// One message's [`SlotState`], written by its lane as it goes, so that what
/// finished before a deadline cut the lanes keeps its outcome.
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<SlotState>);

impl Slot {
    pub(crate) fn set(&self, state: SlotState) {
        // A slot is written whole; a panic elsewhere leaves it readable.
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    /// The message's outcome: a run that never started failed as not
    /// attempted, one still running as interrupted. Never success for a write
    /// whose answer did not come.
    pub(crate) fn into_outcome(self) -> Outcome {
        match self.0.into_inner().unwrap_or_else(PoisonError::into_inner) {
            SlotState::Waiting => Err(Transient::DeadlineReached.into()),
            SlotState::Running => Err(Transient::DeadlineInterrupted.into()),
            SlotState::Done(outcome) => outcome,
        }
    }
}

/// Groups the entries into lanes, keeping their order: on FIFO one lane per
/// message group, otherwise one per aggregate. A message that cannot be
/// placed (unparsable on a standard queue, no group on FIFO) is a lane of
/// its own.
pub(crate) fn lanes<'a>(
    fifo: bool,
    entries: impl Iterator<Item = Entry<'a>>,
) -> Vec<Vec<Entry<'a>>> {
    #[derive(PartialEq, Eq, Hash, Clone, Copy)]
    enum LaneKey<'a> {
        Group(&'a str),
        Aggregate(&'a AggregateKey),
    }
    enum Lane<'a> {
        Keyed(LaneKey<'a>),
        Alone(Entry<'a>),
    }
    // Lanes in the order of their first message; a keyed lane's entries are
    // gathered by key.
    let mut order: Vec<Lane<'a>> = Vec::new();
    let mut keyed: HashMap<LaneKey<'a>, Vec<Entry<'a>>> = HashMap::new();
    for entry in entries {
        let key = match (fifo, &entry.message.message_group_id, entry.parsed) {
            (true, Some(group), _) => Some(LaneKey::Group(group)),
            (false, _, Ok(cmd)) => Some(LaneKey::Aggregate(&cmd.key)),
            _ => None,
        };
        match key {
            Some(k) => keyed
                .entry(k)
                .or_insert_with(|| {
                    order.push(Lane::Keyed(k));
                    Vec::new()
                })
                .push(entry),
            None => order.push(Lane::Alone(entry)),
        }
    }
    order
        .into_iter()
        .filter_map(|lane| match lane {
            Lane::Keyed(k) => keyed.remove(&k),
            Lane::Alone(entry) => Some(vec![entry]),
        })
        .collect()
}
