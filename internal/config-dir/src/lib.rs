//! A [`ConfigSource`] over a local directory: the config of aggregate type
//! `T` is the file `{dir}/T.json`. The file is read on every call (configs
//! are small; the handler asks once per type per batch) and compiled only
//! when its bytes differ from the last ones seen. This is the embedded
//! default (`config/` of the repository); the S3 source lives in its own
//! crate, and both answer the same way (the testkit's ConfigSource
//! conformance suite runs on both):
//! - a missing file is `NotFound` (permanent: `unknown_aggregate_type`);
//! - an invalid file, or one declaring another aggregate type, after a good
//!   one: logged once per edit, and the last good config stays in use;
//! - an invalid file with no good copy known: the error (transient:
//!   `config_unavailable`);
//! - a file that cannot be read: the last good config, or `Unavailable`.
//!
//! What it may depend on: the trait it implements (`handler-core`); never
//! AWS.
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
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use handler_core::config_source::compile;
use handler_core::state_machine::StateMachine;
use handler_core::{ConfigSource, ConfigSourceError};

/// One type's cache: the last good machine, and the bytes last read (the
/// good config's, or a refused edit's, so a refusal is logged once).
#[derive(Debug)]
struct Entry {
    machine: Arc<StateMachine>,
    seen: Vec<u8>,
}

/// Configs read from `{dir}/{aggregateType}.json`.
#[derive(Debug)]
pub struct DirConfigSource {
    dir: PathBuf,
    cache: Mutex<HashMap<String, Entry>>,
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

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave an entry half written.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
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
        _ => ConfigSourceError::unavailable_because(format!("{location}: {e}"), e),
    })?;
    compile(&location, &bytes, expected)
}

#[async_trait]
impl ConfigSource for DirConfigSource {
    /// The stem of every `*.json` file in the directory, sorted (read on
    /// every call, as the files are).
    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError> {
        let location = self.dir.display().to_string();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| {
            ConfigSourceError::unavailable_because(format!("cannot list {location}: {e}"), e)
        })?;
        let mut types = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| {
                ConfigSourceError::unavailable_because(format!("cannot list {location}: {e}"), e)
            })?;
            let name = entry.file_name();
            if let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".json"))
                && !stem.is_empty()
            {
                types.push(stem.to_owned());
            }
        }
        types.sort();
        Ok(types)
    }

    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        let path = self.path_of(aggregate_type);
        let location = path.display().to_string();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.cache().remove(aggregate_type);
                return Err(ConfigSourceError::NotFound {
                    aggregate_type: aggregate_type.to_owned(),
                    location,
                });
            }
            Err(e) => {
                return match self.cache().get(aggregate_type) {
                    Some(entry) => {
                        tracing::warn!(
                            location = %location,
                            version = entry.machine.version(),
                            "cannot read config {location}, serving the cached version {}: {e}",
                            entry.machine.version()
                        );
                        Ok(entry.machine.clone())
                    }
                    None => Err(ConfigSourceError::unavailable_because(
                        format!("{location}: {e}"),
                        e,
                    )),
                };
            }
        };
        if let Some(entry) = self.cache().get(aggregate_type)
            && entry.seen == bytes
        {
            return Ok(entry.machine.clone());
        }
        match compile(&location, &bytes, Some(aggregate_type)) {
            Ok(machine) => {
                let machine = Arc::new(machine);
                self.cache().insert(
                    aggregate_type.to_owned(),
                    Entry {
                        machine: machine.clone(),
                        seen: bytes,
                    },
                );
                Ok(machine)
            }
            Err(error) => match self.cache().get_mut(aggregate_type) {
                Some(entry) => {
                    entry.seen = bytes;
                    tracing::error!(
                        location = %location,
                        version = entry.machine.version(),
                        "config {location} was changed and is refused, keeping version {}: {}",
                        entry.machine.version(),
                        error.to_string().replace('\n', "; ")
                    );
                    Ok(entry.machine.clone())
                }
                None => Err(error),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config that cannot be read (a directory where the file should be)
    /// is unavailable, the I/O error its source.
    #[tokio::test]
    async fn an_unreadable_config_keeps_the_io_error_as_its_source() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("order.json")).unwrap();
        let err = DirConfigSource::new(dir.path())
            .state_machine("order")
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConfigSourceError::Unavailable { .. }),
            "{err:?}"
        );
        assert!(!err.is_permanent());
        let source = std::error::Error::source(&err).expect("the I/O error as the source");
        let cause = source
            .downcast_ref::<handler_core::Cause>()
            .expect("a cause")
            .get();
        assert!(
            cause.downcast_ref::<std::io::Error>().is_some(),
            "{cause:?}"
        );
    }

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
