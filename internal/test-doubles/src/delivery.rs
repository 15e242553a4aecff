//! [`Accepting`]: where publications and reactions go in a test.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use event_processor::{CommandSink, DeliveryError, Publication, Publisher};
use handler_core::state_machine::DerivedCommand;

/// Keeps what it accepts, refuses the ids in `refuse` (transiently) and in
/// `refuse_for_good` (permanently), counts its calls.
#[derive(Debug)]
pub struct Accepting<T> {
    /// What it accepted, in order.
    pub kept: Mutex<Vec<T>>,
    /// Ids refused for now (a transient refusal).
    pub refuse: Mutex<HashSet<String>>,
    /// Ids refused for good (a permanent refusal).
    pub refuse_for_good: Mutex<HashSet<String>>,
    /// Every id offered, accepted or not, in the order offered.
    pub offered: Mutex<Vec<String>>,
    /// How many calls it had.
    pub calls: Mutex<usize>,
}

impl<T> Default for Accepting<T> {
    fn default() -> Self {
        Self {
            kept: Mutex::default(),
            refuse: Mutex::default(),
            refuse_for_good: Mutex::default(),
            offered: Mutex::default(),
            calls: Mutex::default(),
        }
    }
}

impl<T: Clone> Accepting<T> {
    fn accept(&self, items: &[T], id: impl Fn(&T) -> &str) -> Vec<Result<(), DeliveryError>> {
        *self.calls.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        let refuse = self.refuse.lock().unwrap_or_else(PoisonError::into_inner);
        let for_good = self
            .refuse_for_good
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut offered = self.offered.lock().unwrap_or_else(PoisonError::into_inner);
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        items
            .iter()
            .map(|item| {
                offered.push(id(item).to_owned());
                if refuse.contains(id(item)) {
                    return Err(DeliveryError::transient("refused"));
                }
                if for_good.contains(id(item)) {
                    return Err(DeliveryError::permanent("too large for good"));
                }
                kept.push(item.clone());
                Ok(())
            })
            .collect()
    }
}

/// The bus: refuses by event id.
pub type Bus = Accepting<Publication>;

#[async_trait]
impl Publisher for Bus {
    async fn publish(&self, items: &[Publication]) -> Vec<Result<(), DeliveryError>> {
        self.accept(items, |p| &p.event_id)
    }
}

/// The command queue: refuses by command id.
pub type Queue = Accepting<DerivedCommand>;

#[async_trait]
impl CommandSink for Queue {
    async fn send(&self, commands: &[DerivedCommand]) -> Vec<Result<(), DeliveryError>> {
        self.accept(commands, |c| &c.command_id)
    }
}
