//! The config-source trait: where the state machine of an aggregate type comes
//! from (a directory of JSON files, an S3 bucket).

use std::sync::Arc;

use async_trait::async_trait;
use state_machine::{ConfigError, StateMachine};

use crate::cause::Cause;

/// Why no state machine could be had for an aggregate type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigSourceError {
    /// No config exists for the type. Permanent for the message.
    #[error("no config for aggregate type `{aggregate_type}` (looked for {location})")]
    NotFound {
        /// The type asked for.
        aggregate_type: String,
        /// Where it was looked for (path or S3 URI).
        location: String,
    },
    /// The config exists but is invalid, and no earlier valid one is known.
    /// Transient for the message: an operator fixes the config and the
    /// message comes back.
    #[error("config {location} is invalid:\n{error}")]
    Invalid {
        /// The path or S3 URI.
        location: String,
        /// Every fault.
        error: ConfigError,
    },
    /// The config declares another aggregate type than its name says.
    #[error("config {location} declares aggregateType `{declared}`, expected `{expected}`")]
    WrongType {
        /// The path or S3 URI.
        location: String,
        /// What the file says.
        declared: String,
        /// What its name says.
        expected: String,
    },
    /// The source could not be read (I/O, network). Transient.
    #[error("config source unavailable: {reason}")]
    Unavailable {
        /// What could not be read, and why.
        reason: String,
        /// The error underneath (I/O, the SDK's).
        #[source]
        source: Option<Cause>,
    },
}

impl ConfigSourceError {
    /// The source could not be read: `reason` says what and why.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        ConfigSourceError::Unavailable {
            reason: reason.into(),
            source: None,
        }
    }

    /// [`ConfigSourceError::unavailable`], keeping `cause` as its source.
    pub fn unavailable_because(
        reason: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConfigSourceError::Unavailable {
            reason: reason.into(),
            source: Some(Cause::new(cause)),
        }
    }

    /// True when retrying the message cannot help (no config for its type).
    pub fn is_permanent(&self) -> bool {
        matches!(self, ConfigSourceError::NotFound { .. })
    }
}

/// Parses, validates and compiles the config bytes read from `location`
/// (a path or S3 URI), checking that it declares `expected` (when given) as
/// its aggregate type. Every source compiles through this one function, so
/// they refuse the same configs with the same errors.
///
/// # Errors
/// [`ConfigSourceError::Invalid`] or [`ConfigSourceError::WrongType`].
pub fn compile(
    location: &str,
    bytes: &[u8],
    expected: Option<&str>,
) -> Result<StateMachine, ConfigSourceError> {
    let machine = StateMachine::from_json(bytes).map_err(|error| ConfigSourceError::Invalid {
        location: location.to_owned(),
        error,
    })?;
    match expected {
        Some(expected) if machine.aggregate_type() != expected => {
            Err(ConfigSourceError::WrongType {
                location: location.to_owned(),
                declared: machine.aggregate_type().to_owned(),
                expected: expected.to_owned(),
            })
        }
        _ => Ok(machine),
    }
}

/// Supplies the compiled state machine of an aggregate type. Implementations
/// cache as they see fit; the handler asks once per aggregate type per batch,
/// and for an outside event once per source and detail-type per batch.
#[async_trait]
pub trait ConfigSource: Send + Sync {
    /// The state machine for `aggregate_type`.
    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError>;

    /// Every aggregate type this source holds a config for, sorted (a
    /// listing, cached as the source caches its configs).
    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError>;

    /// The machines whose configs bind `source` and `detail_type` (one,
    /// unless configs changed out of step). By default every listed type's
    /// machine, each as [`state_machine`](Self::state_machine) gives it; a
    /// type listed but gone by then is left out, and any other error ends
    /// the search (transient: the binding may be in the config not read).
    async fn bound_by(
        &self,
        source: &str,
        detail_type: &str,
    ) -> Result<Vec<Arc<StateMachine>>, ConfigSourceError> {
        let mut bound = Vec::new();
        for aggregate_type in self.aggregate_types().await? {
            match self.state_machine(&aggregate_type).await {
                Ok(machine) if machine.binding_of(source, detail_type).is_some() => {
                    bound.push(machine);
                }
                Ok(_) | Err(ConfigSourceError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(bound)
    }
}

#[async_trait]
impl<T: ConfigSource + ?Sized> ConfigSource for Arc<T> {
    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        (**self).state_machine(aggregate_type).await
    }

    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError> {
        (**self).aggregate_types().await
    }

    async fn bound_by(
        &self,
        source: &str,
        detail_type: &str,
    ) -> Result<Vec<Arc<StateMachine>>, ConfigSourceError> {
        (**self).bound_by(source, detail_type).await
    }
}
