//! What a local run did: the counts, each alarm fired, and what a person
//! should be told ([`Notice`]), in the order it happened.

use std::fmt;

use handler_core::MessageOutcome;
use serde::Serialize;

use crate::alarms::Fired;
use crate::outcome;

/// What the reactions (and the alarms fired) of a run did.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Rounds that ran reactions.
    pub rounds: u64,
    /// Events read.
    pub events: usize,
    /// Events published.
    pub published: usize,
    /// Reactions run through the handler.
    pub commands: usize,
    /// ... applied.
    pub applied: usize,
    /// ... already applied (nothing written).
    pub duplicates: usize,
    /// ... fired alarms with no effect (nothing written).
    pub stale: usize,
    /// ... rejected or failed (each in [`Report::notices`]).
    pub failed: usize,
    /// Commands that were alarms fired (counted in `commands` too).
    pub alarms: usize,
    /// Each alarm fired, in order.
    pub fired: Vec<Fired>,
    /// Reactions that could not be built (recorded as failures of their
    /// event).
    pub not_built: usize,
    /// True when the round bound stopped the run with events left.
    pub stopped: bool,
    /// The event whose publication failed, when one did (the run stops).
    pub unfinished: Option<String>,
    /// Reactions that failed transiently and are kept for the next run
    /// (each in [`Report::notices`]).
    pub pending: usize,
    /// Alarms that failed transiently and fire again on the next run (each
    /// in [`Report::notices`]).
    pub alarms_pending: usize,
    /// What a person should be told, in the order it happened (not in the
    /// JSON form: each is also counted above).
    #[serde(skip)]
    pub notices: Vec<Notice>,
}

/// Where a command of the run came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A reaction (`then`) of an event.
    Reaction,
    /// An alarm that fell due.
    Alarm,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Reaction => "reaction",
            Origin::Alarm => "alarm",
        })
    }
}

/// One thing a run did that a person should be told. Each names the
/// message and the aggregate, and says why; never a payload value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A reaction or an alarm's command was rejected, or failed (after its
    /// retries).
    Failed {
        /// Reaction or alarm.
        origin: Origin,
        /// Its message id (the command id).
        message_id: String,
        /// `type#id`, empty when the body could not be read.
        aggregate: String,
        /// The command, empty when the body could not be read.
        command: String,
        /// `rejected [code]: reason` or `failed [code]: reason`.
        outcome: String,
    },
    /// A reaction failed transiently: it is kept for the next run.
    ReactionKept {
        /// Its command id.
        message_id: String,
        /// `type#id`.
        aggregate: String,
        /// The command.
        command: String,
    },
    /// An alarm failed transiently: it fires again on the next run.
    AlarmKept {
        /// `type#id`.
        aggregate: String,
        /// The alarm's name.
        alarm: String,
        /// The version that set it.
        version: u64,
    },
    /// The round bound stopped the run with events left.
    Stopped {
        /// The bound.
        max_rounds: u64,
    },
    /// An event could not be finished (its publication failed, or its
    /// reactions could not be kept): the next run tries it again.
    Unfinished {
        /// The event's id.
        event: String,
    },
}

impl Report {
    /// Counts one command's outcome; a failure is noticed as `origin`'s.
    pub(crate) fn count(&mut self, origin: Origin, outcome: &MessageOutcome) {
        self.commands += 1;
        match &outcome.result {
            Ok(applied) if applied.stale.is_some() => self.stale += 1,
            Ok(applied) if applied.duplicate => self.duplicates += 1,
            Ok(_) => self.applied += 1,
            Err(_) => {
                self.failed += 1;
                self.notices.push(Notice::Failed {
                    origin,
                    message_id: outcome.message_id.clone(),
                    aggregate: aggregate_of(outcome),
                    command: outcome.command.clone().unwrap_or_default(),
                    outcome: outcome::text(&outcome.result),
                });
            }
        }
    }

    /// Adds a later run's report to this one (a batch's rounds after
    /// another's, as a server's day would).
    pub fn merge(&mut self, later: Report) {
        self.rounds += later.rounds;
        self.events += later.events;
        self.published += later.published;
        self.commands += later.commands;
        self.applied += later.applied;
        self.duplicates += later.duplicates;
        self.stale += later.stale;
        self.failed += later.failed;
        self.alarms += later.alarms;
        self.fired.extend(later.fired);
        self.not_built += later.not_built;
        self.stopped = later.stopped;
        self.unfinished = later.unfinished;
        self.pending = later.pending;
        self.alarms_pending = later.alarms_pending;
        self.notices.extend(later.notices);
    }

    /// True when the run ended quiet.
    pub fn quiet(&self) -> bool {
        !self.stopped && self.unfinished.is_none() && self.finished()
    }

    /// True when no reaction or alarm failed transiently (none is left
    /// for the next run).
    pub fn finished(&self) -> bool {
        self.pending == 0 && self.alarms_pending == 0
    }

    /// The one-line summary (`reactions: 2 rounds, ...`).
    pub fn summary(&self) -> String {
        format!(
            "reactions: {} round{}, {} event{} read, {} published, {} command{} \
             ({} applied, {} duplicate, {} failed), {} not built{}{}{}",
            self.rounds,
            plural(usize::try_from(self.rounds).unwrap_or(usize::MAX)),
            self.events,
            plural(self.events),
            self.published,
            self.commands,
            plural(self.commands),
            self.applied,
            self.duplicates,
            self.failed,
            self.not_built,
            if self.alarms > 0 {
                format!(
                    ", {} alarm{} fired ({} stale)",
                    self.alarms,
                    plural(self.alarms),
                    self.stale
                )
            } else {
                String::new()
            },
            if self.pending + self.alarms_pending > 0 {
                format!(
                    ", {} left for the next run",
                    self.pending + self.alarms_pending
                )
            } else {
                String::new()
            },
            if self.stopped { ", stopped" } else { "" }
        )
    }
}

/// The text form: one line per alarm fired, then [`Report::summary`].
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fired in &self.fired {
            writeln!(f, "{fired}")?;
        }
        writeln!(f, "{}", self.summary())
    }
}

pub(crate) fn aggregate_of(outcome: &MessageOutcome) -> String {
    outcome
        .aggregate
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
