//! The one rule for holding messages back: which later messages of a batch
//! wait for a failed one, so that they never apply out of order.
//!
//! - On a FIFO queue, a message group stops at its first failure: every later
//!   message of the group is held back ([`HoldScope::MessageGroup`]), whether
//!   it is in the same aggregate run or a later one of the lane.
//! - Within one aggregate's run, a commit that wrote nothing holds back the
//!   later commits, which were decided on top of it
//!   ([`HoldScope::Aggregate`]), on any queue.
//! - On a standard queue, a failed message holds back nothing else.

use handler_core::{Failure, HoldScope, Transient};

/// Tracks the first failure in one scope and what it holds back.
#[derive(Debug, Clone)]
pub(crate) struct HoldBack<'a> {
    /// `None` when failures in this scope hold nothing back.
    scope: Option<HoldScope>,
    blocked_by: Option<&'a str>,
}

impl<'a> HoldBack<'a> {
    /// A lane's messages: a FIFO message group waits for its first failure;
    /// a standard queue's messages wait for nothing.
    pub(crate) fn message_group(fifo: bool) -> Self {
        Self {
            scope: fifo.then_some(HoldScope::MessageGroup),
            blocked_by: None,
        }
    }

    /// The commits of one aggregate's run: the later ones wait for a
    /// commit that wrote nothing.
    pub(crate) fn later_commits() -> Self {
        Self {
            scope: Some(HoldScope::Aggregate),
            blocked_by: None,
        }
    }

    /// Notes a message's failure; the first one in the scope holds back
    /// what follows.
    pub(crate) fn failed(&mut self, message_id: &'a str) {
        if self.scope.is_some() && self.blocked_by.is_none() {
            self.blocked_by = Some(message_id);
        }
    }

    /// The failure of a later message, when an earlier one holds it back.
    pub(crate) fn held(&self) -> Option<Failure> {
        let scope = self.scope?;
        let blocked_by = self.blocked_by?;
        Some(
            Transient::HeldBack {
                blocked_by: blocked_by.to_owned(),
                scope,
            }
            .into(),
        )
    }
}
