//! What [`EventProcessor::process`](crate::EventProcessor::process) answers.

use handler_core::AggregateKey;

use crate::alarms::AlarmCounts;

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Published (if its type publishes), every reaction accepted or recorded
    /// as failed, every alarm order carried out.
    Done,
    /// Its type has no config: nothing published, no reactions. Finished.
    NoConfig,
    /// Not an event: skipped. Finished.
    NotAnEvent,
    /// Could not be read: logged (and recorded when its aggregate is known). Finished.
    Malformed {
        /// Why.
        reason: String,
    },
    /// Its publication, a reaction, an alarm order, its failure record or
    /// its config was not had. Not finished: retried.
    Unfinished {
        /// Why (never quotes values).
        reason: String,
    },
    /// An earlier event of its aggregate did not finish, so this one waits. Not finished.
    Held,
}

impl Outcome {
    /// True when the record needs no retry.
    pub fn is_finished(&self) -> bool {
        !matches!(self, Outcome::Unfinished { .. } | Outcome::Held)
    }

    /// A short, stable name for logs.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::NoConfig => "no_config",
            Outcome::NotAnEvent => "not_an_event",
            Outcome::Malformed { .. } => "malformed",
            Outcome::Unfinished { .. } => "unfinished",
            Outcome::Held => "held",
        }
    }
}

/// One record's outcome with its counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventOutcome {
    /// The record's position.
    pub position: String,
    /// `{pk}@{version}`, for an event.
    pub event_id: Option<String>,
    /// The aggregate, when known.
    pub aggregate: Option<AggregateKey>,
    /// What became of it.
    pub outcome: Outcome,
    /// True when it was published in this call.
    pub published: bool,
    /// Reactions accepted by the sink in this call.
    pub reactions_sent: usize,
    /// Reactions that could not be built (each recorded as a failure).
    pub reactions_failed: usize,
    /// What became of its alarm orders in this call.
    pub alarms: AlarmCounts,
}

/// The answer for one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessReport {
    /// The position of the first record, in input order, that did not
    /// finish; `None` when every record finished.
    pub first_unfinished: Option<String>,
    /// One per record, in input order.
    pub outcomes: Vec<EventOutcome>,
}

impl ProcessReport {
    /// True when every record finished.
    pub fn all_finished(&self) -> bool {
        self.first_unfinished.is_none()
    }

    /// Events published.
    pub fn published(&self) -> usize {
        self.outcomes.iter().filter(|o| o.published).count()
    }

    /// Reactions accepted by the sink.
    pub fn reactions_sent(&self) -> usize {
        self.outcomes.iter().map(|o| o.reactions_sent).sum()
    }

    /// Reactions that could not be built.
    pub fn reactions_failed(&self) -> usize {
        self.outcomes.iter().map(|o| o.reactions_failed).sum()
    }

    /// What became of the alarm orders, over every record.
    pub fn alarms(&self) -> AlarmCounts {
        self.outcomes
            .iter()
            .fold(AlarmCounts::default(), |sum, o| sum + o.alarms)
    }

    /// Records skipped: not events, or malformed.
    pub fn skipped(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::NotAnEvent | Outcome::Malformed { .. }))
            .count()
    }

    /// Records not finished.
    pub fn unfinished(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| !o.outcome.is_finished())
            .count()
    }
}
