//! [`MemoryConfigs`]: compiled machines held in memory.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use handler_core::state_machine::StateMachine;
use handler_core::{ConfigSource, ConfigSourceError};

/// Configs held in memory, by aggregate type; a type in [`down`](Self::down)
/// cannot be read (a transient failure), a type not held is not found.
#[derive(Debug, Default)]
pub struct MemoryConfigs {
    machines: HashMap<String, Arc<StateMachine>>,
    /// Types whose config cannot be read now.
    pub down: Mutex<HashSet<String>>,
}

impl MemoryConfigs {
    /// These machines, each under its own aggregate type.
    pub fn of(machines: impl IntoIterator<Item = Arc<StateMachine>>) -> Self {
        Self {
            machines: machines
                .into_iter()
                .map(|m| (m.aggregate_type().to_owned(), m))
                .collect(),
            down: Mutex::default(),
        }
    }

    /// One machine.
    pub fn one(machine: Arc<StateMachine>) -> Self {
        Self::of([machine])
    }
}

#[async_trait]
impl ConfigSource for MemoryConfigs {
    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError> {
        let mut types: Vec<String> = self.machines.keys().cloned().collect();
        types.sort();
        Ok(types)
    }

    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        let down = self.down.lock().unwrap_or_else(PoisonError::into_inner);
        if down.contains(aggregate_type) {
            return Err(ConfigSourceError::unavailable("down"));
        }
        self.machines
            .get(aggregate_type)
            .cloned()
            .ok_or_else(|| ConfigSourceError::NotFound {
                aggregate_type: aggregate_type.to_owned(),
                location: "memory".to_owned(),
            })
    }
}
