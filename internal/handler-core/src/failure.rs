//! Why a message failed, split by what the caller should do about it:
//! a [`Permanent`] failure will recur (the same message fails the same way), a
//! [`Transient`] fault may pass on a later delivery.

use crate::config_source::ConfigSourceError;
use crate::envelope::EnvelopeError;
use crate::store::StoreError;

/// A message's failure.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// Permanent: retrying cannot succeed.
    #[error(transparent)]
    Permanent(#[from] Permanent),
    /// Transient: a later delivery may succeed.
    #[error(transparent)]
    Transient(#[from] Transient),
}

impl Failure {
    /// True for a [`Permanent`].
    pub fn is_permanent(&self) -> bool {
        matches!(self, Failure::Permanent(_))
    }

    /// A short, stable code for logs, message attributes and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Failure::Permanent(r) => r.code(),
            Failure::Transient(t) => t.code(),
        }
    }
}

/// Permanent reasons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Permanent {
    /// The body is not a valid command message.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// No config exists for the aggregate type.
    #[error(transparent)]
    UnknownAggregateType(ConfigSourceError),
    /// The state machine refused the command.
    #[error(transparent)]
    Decision(#[from] state_machine::Rejection),
    /// `expectedVersion` does not match the aggregate's version.
    #[error("expected version {expected}, but the aggregate is at version {actual}")]
    VersionMismatch {
        /// What the command expected.
        expected: u64,
        /// Where the aggregate is.
        actual: u64,
    },
    /// The event or the resulting state would not fit one stored item.
    #[error("{0}")]
    TooLarge(String),
    /// An outside event (an EventBridge event) that no config binds.
    #[error(
        "event `{event_id}` (source `{event_source}`, detail-type `{detail_type}`) is bound by no config"
    )]
    UnboundEvent {
        /// The event's `id`.
        event_id: String,
        /// Its `source`.
        event_source: String,
        /// Its `detail-type`.
        detail_type: String,
    },
    /// An outside event that more than one config binds (configs changed
    /// out of step: a set that does so is refused).
    #[error(
        "event `{event_id}` (source `{event_source}`, detail-type `{detail_type}`) is bound by more than one config: {}",
        aggregate_types.join(", ")
    )]
    AmbiguousBinding {
        /// The event's `id`.
        event_id: String,
        /// Its `source`.
        event_source: String,
        /// Its `detail-type`.
        detail_type: String,
        /// The types whose configs bind it.
        aggregate_types: Vec<String>,
    },
    /// The binding of an outside event could not build a command the
    /// envelope accepts.
    #[error(transparent)]
    BindingFailed(state_machine::BindingError),
    /// The command id was already used for another command or payload.
    #[error(
        "commandId `{command_id}` was already applied to another command or payload (on {applied_to})"
    )]
    CommandIdReused {
        /// The reused id.
        command_id: String,
        /// The aggregate the first use was applied to.
        applied_to: String,
    },
}

impl Permanent {
    /// A short, stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Permanent::Envelope(_) => "malformed_message",
            Permanent::UnknownAggregateType(_) => "unknown_aggregate_type",
            Permanent::Decision(state_machine::Rejection::UnknownCommand { .. }) => {
                "unknown_command"
            }
            Permanent::Decision(state_machine::Rejection::InvalidTransition { .. }) => {
                "invalid_transition"
            }
            Permanent::Decision(state_machine::Rejection::SchemaViolation { .. }) => {
                "schema_violation"
            }
            Permanent::Decision(state_machine::Rejection::GuardFailed { .. }) => "guard_failed",
            Permanent::Decision(state_machine::Rejection::AlarmInvalid { .. }) => "alarm_invalid",
            Permanent::Decision(state_machine::Rejection::AlarmMismatch { .. }) => "alarm_mismatch",
            Permanent::Decision(state_machine::Rejection::AlarmNotDue { .. }) => "alarm_not_due",
            // Never a failure: the handler acknowledges a stale alarm.
            Permanent::Decision(state_machine::Rejection::Stale { .. }) => "stale",
            Permanent::VersionMismatch { .. } => "version_mismatch",
            Permanent::TooLarge(_) => "too_large",
            Permanent::CommandIdReused { .. } => "command_id_reused",
            Permanent::UnboundEvent { .. } => "unbound_event",
            Permanent::AmbiguousBinding { .. } => "ambiguous_binding",
            Permanent::BindingFailed(_) => "binding_failed",
        }
    }
}

/// Which later messages of a batch wait for a failed one, to keep their
/// order: those of the same aggregate, or of the same FIFO message group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldScope {
    /// The later commits of one aggregate's run.
    Aggregate,
    /// The later messages of one FIFO message group.
    MessageGroup,
}

impl std::fmt::Display for HoldScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HoldScope::Aggregate => "aggregate",
            HoldScope::MessageGroup => "message group",
        })
    }
}

/// Transient reasons.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Transient {
    /// The event store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The config could not be had (unreadable, or invalid with no good copy).
    #[error(transparent)]
    Config(ConfigSourceError),
    /// Other writers kept winning the race for the aggregate's next version.
    #[error("version conflict persisted after {attempts} attempts")]
    ConflictRetriesExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// An earlier message of the same aggregate (or FIFO group) in the batch
    /// failed, so this one was not attempted, to keep their order.
    #[error("held back: earlier message {blocked_by} of the same {scope} failed")]
    HeldBack {
        /// The message that failed first.
        blocked_by: String,
        /// Which messages wait for it.
        scope: HoldScope,
    },
    /// The invocation's deadline came before this message was attempted.
    #[error("not attempted: the invocation's deadline was near")]
    DeadlineReached,
    /// The invocation's deadline came while this message's aggregate was
    /// being worked on: its write may have landed without its answer, so it
    /// is reported failed and, if it did land, comes back as a duplicate.
    #[error("interrupted: the invocation's deadline came while its aggregate was being worked on")]
    DeadlineInterrupted,
}

impl Transient {
    /// A short, stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Transient::Store(_) => "store_unavailable",
            Transient::Config(_) => "config_unavailable",
            Transient::ConflictRetriesExhausted { .. } => "conflict",
            Transient::HeldBack { .. } => "held_back",
            Transient::DeadlineReached | Transient::DeadlineInterrupted => "deadline",
        }
    }
}

impl From<ConfigSourceError> for Failure {
    fn from(e: ConfigSourceError) -> Self {
        if e.is_permanent() {
            Failure::Permanent(Permanent::UnknownAggregateType(e))
        } else {
            Failure::Transient(Transient::Config(e))
        }
    }
}
