//! Reading variables: set and not empty, or missing; and why a Lambda's
//! environment cannot be used.

use crate::knobs::KnobError;

/// Why the Lambda's environment cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaEnvError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    /// A knob has an invalid value.
    #[error(transparent)]
    Knob(#[from] KnobError),
    /// `WARM_ON_INIT` is neither `true` nor `false`.
    #[error("WARM_ON_INIT={0:?} is not valid: expected true or false")]
    WarmOnInit(String),
}

/// A variable's value, when it is set and not empty.
pub fn present(lookup: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.is_empty())
}

/// A variable that must be set and not empty.
pub fn required(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<String, LambdaEnvError> {
    present(lookup, name).ok_or(LambdaEnvError::Missing(name))
}

/// `WARM_ON_INIT`: `true` (the default, when unset or empty) or `false`.
pub fn warm_on_init(lookup: &impl Fn(&str) -> Option<String>) -> Result<bool, LambdaEnvError> {
    match present(lookup, "WARM_ON_INIT").as_deref() {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(LambdaEnvError::WarmOnInit(other.to_owned())),
    }
}
