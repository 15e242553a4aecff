//! Counts of what the worker did, per poll and summed over a run.

use std::ops::AddAssign;

use serde::Serialize;

/// What one or more polls did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PollStats {
    /// Receives that returned at least one message (one batch each).
    pub batches: u64,
    /// Messages received (a redelivered message counts each time).
    pub received: u64,
    /// Messages that had their full effect (applied or duplicate) and were
    /// deleted, or were meant to be (see `delete_failed`).
    pub applied: u64,
    /// Messages that failed and were left on the queue to come back.
    pub failed: u64,
    /// Permanently rejected messages sent to the dead-letter queue at once
    /// (with a rejection sink) and deleted.
    pub dead_lettered: u64,
    /// Applied messages whose delete SQS refused: they come back and are then
    /// recognised as duplicates.
    pub delete_failed: u64,
}

impl AddAssign for PollStats {
    fn add_assign(&mut self, other: Self) {
        self.batches += other.batches;
        self.received += other.received;
        self.applied += other.applied;
        self.failed += other.failed;
        self.dead_lettered += other.dead_lettered;
        self.delete_failed += other.delete_failed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_add_up_and_serialize_in_camel_case() {
        let mut total = PollStats::default();
        total += PollStats {
            batches: 1,
            received: 3,
            applied: 2,
            failed: 1,
            dead_lettered: 0,
            delete_failed: 0,
        };
        total += PollStats {
            batches: 1,
            received: 1,
            applied: 1,
            failed: 0,
            dead_lettered: 0,
            delete_failed: 1,
        };
        assert_eq!(
            total,
            PollStats {
                batches: 2,
                received: 4,
                applied: 3,
                failed: 1,
                dead_lettered: 0,
                delete_failed: 1
            }
        );
        let json = serde_json::to_value(total).expect("serializes");
        assert_eq!(json["deleteFailed"], 1);
        assert_eq!(json["batches"], 2);
    }
}
