//! What can stop a local run: the embedded store failed under it, or the
//! handler did not answer a command it was given.

use handler_core::StoreError;

/// A local run that could not go on. Every other failure (a reaction or an
/// alarm refused, or failing transiently) is in the [`Report`](crate::Report).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The embedded event processor could not read the store's events or
    /// its checkpoint.
    #[error("the embedded event processor could not read the store")]
    Feed(#[source] StoreError),
    /// The pending reactions could not be read, or one marked done.
    #[error("cannot {action} the pending reactions")]
    Pending {
        /// `read`, `mark done`.
        action: &'static str,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The due alarms could not be read, or one marked delivered.
    #[error("cannot {action} the due alarms")]
    Alarms {
        /// `read`, `mark delivered`.
        action: &'static str,
        /// The store's error.
        #[source]
        source: StoreError,
    },
    /// The handler reported no outcome for a command it was given.
    #[error("the handler reported no outcome for the alarm {alarm} of {aggregate}")]
    NoOutcome {
        /// `type#id`.
        aggregate: String,
        /// The alarm's name.
        alarm: String,
    },
}

impl RuntimeError {
    /// True when running again may succeed (the store was unavailable);
    /// false for a corrupt record or a fault of the runtime itself.
    pub fn is_transient(&self) -> bool {
        match self {
            RuntimeError::Feed(source)
            | RuntimeError::Pending { source, .. }
            | RuntimeError::Alarms { source, .. } => {
                matches!(source, StoreError::Unavailable { .. })
            }
            RuntimeError::NoOutcome { .. } => false,
        }
    }
}
