//! [`S3ConfigSource`]: the cached reader the Lambda and the worker use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use handler_core::state_machine::StateMachine;
use handler_core::{ConfigSource, ConfigSourceError};

use handler_core::config_source::compile;

use crate::listing::list_types;
use crate::object::{Fetched, get_object, object_key, s3_uri};

/// How long a fetched config is used before S3 is asked whether it changed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// One cached config: the last good machine, the ETag it came with, and when
/// S3 was last asked about it.
#[derive(Debug)]
struct Entry {
    machine: Arc<StateMachine>,
    etag: Option<String>,
    checked: Instant,
}

/// Configs read from `s3://{bucket}/{prefix}{aggregateType}.json`.
///
/// Each type's compiled machine is cached. Within the TTL it is answered
/// with no request; after it, one `GetObject` with `If-None-Match` either
/// confirms it (304) or brings the new version. A new version that is invalid
/// is logged and the last good one kept (with its old ETag, so the next check
/// downloads and reports it again); when S3 cannot be reached the cached one
/// is served too. A valid config with a lower `version` than the cached one
/// is served, and logged as a warning (an older config replaced a newer one). Either way the check waits another TTL, so a broken config
/// or a throttled bucket costs one request per TTL, not one per batch. A
/// deleted object (`NoSuchKey`) is `NotFound` at once and drops the cache.
/// See the crate docs for an example.
#[derive(Debug)]
pub struct S3ConfigSource {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    ttl: Duration,
    cache: Mutex<HashMap<String, Entry>>,
    /// The types under the prefix, and when S3 was last asked.
    listing: Mutex<Option<(Vec<String>, Instant)>>,
}

impl S3ConfigSource {
    /// A source over `bucket`, keys `{prefix}{type}.json`, with [`DEFAULT_TTL`].
    pub fn new(
        client: aws_sdk_s3::Client,
        bucket: impl Into<String>,
        prefix: impl Into<String>,
    ) -> Self {
        Self {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
            ttl: DEFAULT_TTL,
            cache: Mutex::new(HashMap::new()),
            listing: Mutex::new(None),
        }
    }

    /// The same source, asking S3 again at most once per `ttl` and type.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The bucket read.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key prefix, as given.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The cache lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock cannot leave a map entry half
        // written, so a poisoned cache is still usable.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached machine, refreshing its check time: used when S3 says
    /// "unchanged", brings a bad config, or cannot be reached.
    fn keep_cached(&self, aggregate_type: &str) -> Option<Arc<StateMachine>> {
        let mut cache = self.cache();
        let entry = cache.get_mut(aggregate_type)?;
        entry.checked = Instant::now();
        Some(entry.machine.clone())
    }
}

#[async_trait]
impl ConfigSource for S3ConfigSource {
    /// One `ListObjectsV2` per TTL (per 1,000 keys); within it the last
    /// listing. When S3 cannot list, the last listing is served (and asked
    /// again after another TTL), or the error when there is none.
    async fn aggregate_types(&self) -> Result<Vec<String>, ConfigSourceError> {
        let lock = || self.listing.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((types, listed)) = lock().as_ref()
            && listed.elapsed() < self.ttl
        {
            return Ok(types.clone());
        }
        match list_types(&self.client, &self.bucket, &self.prefix).await {
            Ok(types) => {
                *lock() = Some((types.clone(), Instant::now()));
                Ok(types)
            }
            Err(error) => match lock().as_mut() {
                Some((types, listed)) => {
                    tracing::warn!(
                        bucket = %self.bucket,
                        prefix = %self.prefix,
                        "cannot list the configs, serving the last listing: {error}"
                    );
                    *listed = Instant::now();
                    Ok(types.clone())
                }
                None => Err(error),
            },
        }
    }

    async fn state_machine(
        &self,
        aggregate_type: &str,
    ) -> Result<Arc<StateMachine>, ConfigSourceError> {
        let cached_etag = {
            let cache = self.cache();
            match cache.get(aggregate_type) {
                Some(entry) if entry.checked.elapsed() < self.ttl => {
                    return Ok(entry.machine.clone());
                }
                Some(entry) => Some(entry.etag.clone()),
                None => None,
            }
        };
        let key = object_key(&self.prefix, aggregate_type);
        let location = s3_uri(&self.bucket, &key);
        // Only revalidate when there is something to fall back on.
        let if_none_match = cached_etag.flatten();
        let fetched = get_object(&self.client, &self.bucket, &key, if_none_match).await;

        let (bytes, etag) = match fetched {
            Fetched::Body(bytes, etag) => (bytes, etag),
            Fetched::NotModified => {
                return self.keep_cached(aggregate_type).ok_or_else(|| {
                    ConfigSourceError::unavailable(format!(
                        "{location}: S3 answered 304 Not Modified to an unconditional GetObject"
                    ))
                });
            }
            Fetched::NoSuchKey => {
                self.cache().remove(aggregate_type);
                return Err(ConfigSourceError::NotFound {
                    aggregate_type: aggregate_type.to_owned(),
                    location,
                });
            }
            Fetched::Failed(message, cause) => {
                return match self.keep_cached(aggregate_type) {
                    Some(machine) => {
                        tracing::warn!(
                            location = %location,
                            version = machine.version(),
                            "cannot read config {location}, serving the cached version {}: {message}",
                            machine.version()
                        );
                        Ok(machine)
                    }
                    None => Err(ConfigSourceError::unavailable_because(
                        format!("{location}: {message}"),
                        cause,
                    )),
                };
            }
        };

        match compile(&location, &bytes, Some(aggregate_type)) {
            Ok(machine) => {
                let machine = Arc::new(machine);
                let previous = self
                    .cache()
                    .get(aggregate_type)
                    .map(|e| e.machine.version());
                if let Some(previous) = previous.filter(|v| *v > machine.version()) {
                    tracing::warn!(
                        location = %location,
                        version = machine.version(),
                        previous,
                        "config {location} went back from version {previous} to {}: an older config replaced a newer one",
                        machine.version()
                    );
                }
                self.cache().insert(
                    aggregate_type.to_owned(),
                    Entry {
                        machine: machine.clone(),
                        etag,
                        checked: Instant::now(),
                    },
                );
                Ok(machine)
            }
            Err(error) => match self.keep_cached(aggregate_type) {
                Some(machine) => {
                    tracing::error!(
                        location = %location,
                        version = machine.version(),
                        "config {location} was changed and is refused, keeping version {}: {}",
                        machine.version(),
                        one_line(&error)
                    );
                    Ok(machine)
                }
                None => Err(error),
            },
        }
    }
}

/// A source error on one line: every fault, separated by `; `.
fn one_line(error: &ConfigSourceError) -> String {
    match error {
        ConfigSourceError::Invalid { error, .. } => {
            let faults: Vec<String> = error.faults.iter().map(ToString::to_string).collect();
            format!("invalid: {}", faults.join("; "))
        }
        other => other.to_string().replace('\n', "; "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_logged_on_one_line() {
        let bad = r#"{"aggregateType":"order","version":1,"initialState":"X","states":["A"],"transitions":[{"command":"","from":["B"],"to":"A","event":"E"}]}"#;
        let err = compile("s3://b/order.json", bad.as_bytes(), Some("order")).unwrap_err();
        let line = one_line(&err);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("initialState"), "{line}");
        assert!(line.contains("transitions[0]"), "{line}");
    }
}
