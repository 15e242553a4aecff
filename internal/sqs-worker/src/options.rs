//! How the worker receives, and the ranges SQS accepts.

use std::time::Duration;

/// How the worker receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerOptions {
    /// Messages per receive, 1 to 10 (default 10, SQS's maximum).
    pub max_messages: i32,
    /// Long-poll wait per receive, 0 to 20 seconds (default 20; use 1 to
    /// notice an empty queue quickly, as `run_until_empty` callers do).
    pub wait_time_seconds: i32,
    /// Visibility timeout asked for on each receive; `None` (default) keeps
    /// the queue's own. A failed message reappears after it.
    pub visibility_timeout: Option<i32>,
    /// First pause of [`Worker::run`](crate::Worker::run) after a failed receive; doubled on
    /// each further failure.
    pub initial_backoff: Duration,
    /// Longest pause after failed receives.
    pub max_backoff: Duration,
}

impl WorkerOptions {
    /// The options with each value brought into the range SQS accepts.
    pub(crate) fn clamped(self) -> Self {
        Self {
            max_messages: self.max_messages.clamp(1, 10),
            wait_time_seconds: self.wait_time_seconds.clamp(0, 20),
            visibility_timeout: self.visibility_timeout.map(|v| v.clamp(0, 43_200)),
            ..self
        }
    }
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            max_messages: 10,
            wait_time_seconds: 20,
            visibility_timeout: None,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_clamped_to_what_sqs_accepts() {
        let options = WorkerOptions {
            max_messages: 50,
            wait_time_seconds: -3,
            visibility_timeout: Some(99_999),
            ..WorkerOptions::default()
        }
        .clamped();
        assert_eq!(options.max_messages, 10);
        assert_eq!(options.wait_time_seconds, 0);
        assert_eq!(options.visibility_timeout, Some(43_200));
        let options = WorkerOptions {
            max_messages: 0,
            wait_time_seconds: 21,
            ..WorkerOptions::default()
        }
        .clamped();
        assert_eq!((options.max_messages, options.wait_time_seconds), (1, 20));
    }
}
