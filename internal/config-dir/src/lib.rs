//! A [`ConfigSource`] over a local directory: the config of aggregate type
//! `T` is the file `{dir}/T.json`. Compiled configs are cached and reloaded
//! when the file's modification time changes. This is the embedded default
//! (`config/` of the repository); the S3 source lives in its own crate.
//!
//! Depends on `handler-core` only.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use handler_core::ConfigSource;
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config");
//! let configs = config_dir::DirConfigSource::new(dir);
//! let order = configs.state_machine("order").await.unwrap();
//! assert_eq!(order.aggregate_type(), "order");
//! # });
//! ```
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use handler_core::state_machine::StateMachine;
use handler_core::{ConfigSource, ConfigSourceError};

/// Configs read from `{dir}/{aggregateType}.json`.
#[derive(Debug)]
pub struct DirConfigSource {
    dir: PathBuf,
    cache: Mutex<HashMap<String, (SystemTime, Arc<StateMachine>)>>,
}

impl DirConfigSource {
    /// A source over `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The directory read.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, aggregate_type: &str) -> PathBuf {
        self.dir.join(format!("{aggregate_type}.json"))
    }
}

/// Reads, validates and compiles one config file, checking that it declares
/// the aggregate type its name says (when `expected` is given).
pub fn load_file(path: &Path, expected: Option<&str>) -> Result<StateMachine, ConfigSourceError> {
    let location = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ConfigSourceError::NotFound {
            aggregate_type: expected.unwrap_or_default().to_owned(),
            location: location.clone(),
        },
        _ => ConfigSourceError::Unavailable(format!("{location}: {e}")),
    })?;
    let machine = StateMachine::from_json(&bytes).map_err(|error| ConfigSourceError::Invalid {
        location: location.clone(),
        error,
    })?;
    match expected {
        Some(expected) if machine.aggregate_type() != expected => {
            Err(ConfigSourceError::WrongType {
                location,
                declared: machine.aggregate_type().to_owned(),
                expected: expected.to_owned(),
            })
        }
        _ => Ok(machine),
    }
}

#[async_trait]
impl ConfigSource for DirConfigSource {
    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        let path = self.path_of(aggregate_type);
        let modified = match std::fs::metadata(&path) {
            Ok(meta) => meta.modified().ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigSourceError::NotFound {
                    aggregate_type: aggregate_type.to_owned(),
                    location: path.display().to_string(),
                });
            }
            Err(e) => {
                return Err(ConfigSourceError::Unavailable(format!(
                    "{}: {e}",
                    path.display()
                )));
            }
        };
        if let (Some(modified), Ok(cache)) = (modified, self.cache.lock())
            && let Some((seen, machine)) = cache.get(aggregate_type)
            && *seen == modified
        {
            return Ok(machine.clone());
        }
        let machine = Arc::new(load_file(&path, Some(aggregate_type))?);
        if let (Some(modified), Ok(mut cache)) = (modified, self.cache.lock()) {
            cache.insert(aggregate_type.to_owned(), (modified, machine.clone()));
        }
        Ok(machine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn missing_invalid_and_mismatched_configs_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let source = DirConfigSource::new(dir.path());
        assert!(matches!(
            source.state_machine("order").await,
            Err(ConfigSourceError::NotFound { .. })
        ));
        std::fs::write(dir.path().join("bad.json"), "{").unwrap();
        assert!(matches!(
            source.state_machine("bad").await,
            Err(ConfigSourceError::Invalid { .. })
        ));
        let ok = r#"{"aggregateType":"other","version":1,"initialState":"A","states":["A"],"transitions":[]}"#;
        std::fs::write(dir.path().join("named.json"), ok).unwrap();
        assert!(matches!(
            source.state_machine("named").await,
            Err(ConfigSourceError::WrongType { .. })
        ));
    }
}
