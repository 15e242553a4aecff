//! How an aggregate's run is retried when other writers win the race for its
//! next version: how many attempts, and the pause between them.

use std::time::Duration;

/// Attempts at one aggregate's append, and the backoff between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts at one aggregate's append when other writers win the race
    /// (at least one is made).
    pub max_attempts: u32,
    /// The first pause before deciding again after a lost race; it doubles
    /// per attempt up to `max_delay`, and each pause is drawn at random
    /// below that bound (full jitter), so racing writers spread out.
    pub base_delay: Duration,
    /// The largest pause between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// True when `attempt` (counting from 1) may be followed by another.
    pub(crate) fn may_retry_after(&self, attempt: u32) -> bool {
        attempt < self.max_attempts.max(1)
    }

    /// The pause before attempt `attempt + 1`: full jitter below an
    /// exponentially growing bound.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let bound = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        bound.mul_f64(rand::random::<f64>())
    }
}
