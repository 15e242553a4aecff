//! [`Cause`]: the error beneath a failure, kept as the failure's
//! [`source()`](std::error::Error::source) instead of flattened into its
//! text. Shared, so that the failure stays `Clone`; compared by its text, so
//! that it stays `PartialEq`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// The error a failure came from (an SDK error, an I/O error, a JSON error).
#[derive(Clone)]
pub struct Cause(Arc<dyn Error + Send + Sync>);

impl Cause {
    /// Keeps `error` as a cause.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// The error itself, e.g. to downcast it.
    pub fn get(&self) -> &(dyn Error + Send + Sync + 'static) {
        self.0.as_ref()
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for Cause {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Eq for Cause {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_shows_and_chains_as_the_error_it_keeps() {
        let io = std::io::Error::other("disk on fire");
        let cause = Cause::new(io);
        assert_eq!(cause.to_string(), "disk on fire");
        assert!(cause.get().downcast_ref::<std::io::Error>().is_some());
        assert_eq!(cause.clone(), cause);
    }
}
