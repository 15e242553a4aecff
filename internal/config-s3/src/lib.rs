//! The S3 [`ConfigSource`]: the state-machine config of aggregate type `T` is
//! the object `{prefix}{T}.json` of a bucket (CONTRACT §1, §3). This crate
//! owns reading those objects (cached per type, revalidated by ETag after a
//! TTL) and writing them ([`upload_config`], which validates first, and
//! [`fetch_config`] for comparing with what is deployed).
//!
//! It depends on `handler-core` (the trait, and the state machine through
//! it) and `aws-sdk-s3`; never on a store crate.
//!
//! Reading, as the Lambda does:
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_s3::Client) {
//! use handler_core::ConfigSource;
//! use std::time::Duration;
//!
//! let configs = config_s3::S3ConfigSource::new(client, "my-configs", "configs/")
//!     .with_ttl(Duration::from_secs(30));
//! // GetObject s3://my-configs/configs/order.json, then at most one
//! // conditional request per 30 s.
//! let order = configs.state_machine("order").await.unwrap();
//! assert_eq!(order.aggregate_type(), "order");
//! # }
//! ```
//!
//! Uploading, as `cmdctl config upload` does: an invalid config, or one
//! whose `version` is lower than the deployed one's, is refused before
//! anything is written ([`force_upload_config`] goes back on purpose).
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_s3::Client) -> Result<(), config_s3::UploadError> {
//! let bytes = std::fs::read("config/order.json").unwrap();
//! let up = config_s3::upload_config(&client, "my-configs", "", &bytes, Some("order")).await?;
//! assert_eq!(up.key, "order.json");
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use handler_core::state_machine::{ConfigError, StateMachine};
use handler_core::{ConfigSource, ConfigSourceError};

/// How long a fetched config is used before S3 is asked whether it changed.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// The object key of an aggregate type's config: `{prefix}{aggregate_type}.json`.
/// The prefix is used as given (empty, or ending in `/` for a folder).
///
/// ```
/// assert_eq!(config_s3::object_key("configs/", "order"), "configs/order.json");
/// assert_eq!(config_s3::object_key("", "order"), "order.json");
/// ```
pub fn object_key(prefix: &str, aggregate_type: &str) -> String {
    format!("{prefix}{aggregate_type}.json")
}

fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

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
                    ConfigSourceError::Unavailable(format!(
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
            Fetched::Failed(message) => {
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
                    None => Err(ConfigSourceError::Unavailable(format!(
                        "{location}: {message}"
                    ))),
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

/// Parses, validates and compiles a config, checking that it declares
/// `expected` (when given) as its aggregate type.
fn compile(
    location: &str,
    bytes: &[u8],
    expected: Option<&str>,
) -> Result<StateMachine, ConfigSourceError> {
    let machine = StateMachine::from_json(bytes).map_err(|error| ConfigSourceError::Invalid {
        location: location.to_owned(),
        error,
    })?;
    match expected {
        Some(expected) if machine.aggregate_type() != expected => {
            Err(ConfigSourceError::WrongType {
                location: location.to_owned(),
                declared: machine.aggregate_type().to_owned(),
                expected: expected.to_owned(),
            })
        }
        _ => Ok(machine),
    }
}

/// What one GetObject came to.
enum Fetched {
    /// 200: the body and its ETag.
    Body(Vec<u8>, Option<String>),
    /// 304 to `If-None-Match`.
    NotModified,
    /// 404 `NoSuchKey`.
    NoSuchKey,
    /// Anything else, with the SDK's full message.
    Failed(String),
}

async fn get_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    if_none_match: Option<String>,
) -> Fetched {
    let sent = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_if_none_match(if_none_match)
        .send()
        .await;
    match sent {
        Ok(output) => read_body(output).await,
        Err(err) => classify(&err),
    }
}

async fn read_body(output: GetObjectOutput) -> Fetched {
    let etag = output.e_tag().map(str::to_owned);
    match output.body.collect().await {
        Ok(data) => Fetched::Body(data.into_bytes().to_vec(), etag),
        Err(e) => Fetched::Failed(format!("reading the object body: {e}")),
    }
}

fn classify<R>(err: &SdkError<GetObjectError, R>) -> Fetched
where
    R: HttpStatus + std::fmt::Debug,
{
    // S3 answers a matching If-None-Match with a bare 304, which the SDK
    // surfaces as an unmodeled service error: only the status tells.
    let status = err.raw_response().map(HttpStatus::status_code);
    if status == Some(304) {
        return Fetched::NotModified;
    }
    let no_such_key = err
        .as_service_error()
        .is_some_and(|e| e.is_no_such_key() || e.code() == Some("NoSuchKey"));
    if no_such_key {
        return Fetched::NoSuchKey;
    }
    Fetched::Failed(sdk_error::describe(err))
}

/// The HTTP status of a raw response (kept generic so the classification
/// can be unit-tested without a live response type).
trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// A config written by [`upload_config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The object key: `{prefix}{aggregate_type}.json`.
    pub key: String,
    /// The new object's ETag, as S3 returned it (quoted).
    pub etag: Option<String>,
    /// The config's `aggregateType`.
    pub aggregate_type: String,
    /// The config's `version`.
    pub version: u64,
}

/// Why a config was not uploaded or fetched.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UploadError {
    /// The config is invalid; nothing was written.
    #[error("config {location} is invalid:\n{error}")]
    Invalid {
        /// Where it would have gone (`s3://bucket/key`), or the bucket and
        /// prefix when not even its aggregate type could be read.
        location: String,
        /// Every fault.
        error: ConfigError,
    },
    /// The config declares another aggregate type than the one expected;
    /// nothing was written.
    #[error("config {location} declares aggregateType `{declared}`, expected `{expected}`")]
    WrongType {
        /// Where it would have gone (`s3://bucket/key` of the expected type).
        location: String,
        /// What the config says.
        declared: String,
        /// What the caller expected.
        expected: String,
    },
    /// The deployed config has a higher `version` than the one uploaded;
    /// nothing was written ([`force_upload_config`] replaces it anyway).
    #[error(
        "config {location} is at version {deployed}, newer than the uploaded version {uploading}: not replaced (force it to go back)"
    )]
    Older {
        /// The deployed object (`s3://bucket/key`).
        location: String,
        /// The deployed config's `version`.
        deployed: u64,
        /// The uploaded config's `version`.
        uploading: u64,
    },
    /// S3 refused or could not be reached (the SDK's full message).
    #[error("S3: {0}")]
    S3(String),
}

/// Validates `bytes` (it must compile as a state machine, and declare
/// `expected_type` as its `aggregateType` when that is given), checks that
/// the deployed config, if any, has no higher `version`, and only then puts
/// it to `{prefix}{aggregateType}.json` in `bucket`.
///
/// # Errors
/// [`UploadError::Invalid`] or [`UploadError::WrongType`] when the config is
/// refused, [`UploadError::Older`] when it would replace a newer one (nothing
/// is written); [`UploadError::S3`] when S3 fails.
pub async fn upload_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
) -> Result<Uploaded, UploadError> {
    put_config(client, bucket, prefix, bytes, expected_type, true).await
}

/// [`upload_config`] without the version check: replaces whatever is
/// deployed, even a newer version (still validated first).
///
/// # Errors
/// As [`upload_config`], never [`UploadError::Older`].
pub async fn force_upload_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
) -> Result<Uploaded, UploadError> {
    put_config(client, bucket, prefix, bytes, expected_type, false).await
}

/// The `version` of the deployed config of `aggregate_type`: `None` when
/// there is no such object, or when it has no readable `version` (an invalid
/// config is no version to protect).
///
/// # Errors
/// [`UploadError::S3`] when S3 refuses or cannot be reached.
pub async fn deployed_version(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    aggregate_type: &str,
) -> Result<Option<u64>, UploadError> {
    let deployed = fetch_config(client, bucket, prefix, aggregate_type).await?;
    Ok(deployed.and_then(|(bytes, _)| {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()?
            .get("version")?
            .as_u64()
    }))
}

async fn put_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    bytes: &[u8],
    expected_type: Option<&str>,
    refuse_older: bool,
) -> Result<Uploaded, UploadError> {
    let machine = StateMachine::from_json(bytes).map_err(|error| UploadError::Invalid {
        location: upload_location(bucket, prefix, bytes, expected_type),
        error,
    })?;
    let aggregate_type = machine.aggregate_type().to_owned();
    if let Some(expected) = expected_type
        && expected != aggregate_type
    {
        return Err(UploadError::WrongType {
            location: s3_uri(bucket, &object_key(prefix, expected)),
            declared: aggregate_type,
            expected: expected.to_owned(),
        });
    }
    let key = object_key(prefix, &aggregate_type);
    if refuse_older
        && let Some(deployed) = deployed_version(client, bucket, prefix, &aggregate_type).await?
        && deployed > machine.version()
    {
        return Err(UploadError::Older {
            location: s3_uri(bucket, &key),
            deployed,
            uploading: machine.version(),
        });
    }
    let put = client
        .put_object()
        .bucket(bucket)
        .key(&key)
        .content_type("application/json")
        .body(bytes.to_vec().into())
        .send()
        .await
        .map_err(|e| UploadError::S3(sdk_error::describe(&e)))?;
    Ok(Uploaded {
        key,
        etag: put.e_tag().map(str::to_owned),
        aggregate_type,
        version: machine.version(),
    })
}

/// Where a refused config would have gone: the expected type's key, else
/// the declared type's when the document has one, else the bucket and prefix.
fn upload_location(bucket: &str, prefix: &str, bytes: &[u8], expected: Option<&str>) -> String {
    let declared = || {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()?
            .get("aggregateType")?
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
    };
    match expected.map(str::to_owned).or_else(declared) {
        Some(aggregate_type) => s3_uri(bucket, &object_key(prefix, &aggregate_type)),
        None => s3_uri(bucket, prefix),
    }
}

/// The deployed config of `aggregate_type` (its bytes and ETag), or `None`
/// when there is no such object.
///
/// # Errors
/// [`UploadError::S3`] when S3 refuses or cannot be reached.
pub async fn fetch_config(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    aggregate_type: &str,
) -> Result<Option<(Vec<u8>, Option<String>)>, UploadError> {
    let key = object_key(prefix, aggregate_type);
    match get_object(client, bucket, &key, None).await {
        Fetched::Body(bytes, etag) => Ok(Some((bytes, etag))),
        Fetched::NoSuchKey => Ok(None),
        Fetched::NotModified => Err(UploadError::S3(format!(
            "{}: unexpected 304 Not Modified",
            s3_uri(bucket, &key)
        ))),
        Fetched::Failed(message) => Err(UploadError::S3(format!(
            "{}: {message}",
            s3_uri(bucket, &key)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"{"aggregateType":"order","version":3,"initialState":"A","states":["A"],"transitions":[]}"#;

    #[test]
    fn keys_use_the_prefix_as_given() {
        assert_eq!(object_key("", "order"), "order.json");
        assert_eq!(object_key("configs/", "order"), "configs/order.json");
        assert_eq!(object_key("v1-", "order"), "v1-order.json");
    }

    #[test]
    fn compile_tells_invalid_from_wrong_type() {
        let loc = "s3://b/order.json";
        assert_eq!(
            compile(loc, VALID.as_bytes(), Some("order"))
                .unwrap()
                .version(),
            3
        );
        assert!(matches!(
            compile(loc, b"{", Some("order")),
            Err(ConfigSourceError::Invalid { .. })
        ));
        assert!(matches!(
            compile(loc, VALID.as_bytes(), Some("invoice")),
            Err(ConfigSourceError::WrongType { declared, .. }) if declared == "order"
        ));
    }

    #[test]
    fn faults_are_logged_on_one_line() {
        let bad = r#"{"aggregateType":"order","version":1,"initialState":"X","states":["A"],"transitions":[{"command":"","from":["B"],"to":"A","event":"E"}]}"#;
        let err = compile("s3://b/order.json", bad.as_bytes(), Some("order")).unwrap_err();
        let line = one_line(&err);
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("initialState"), "{line}");
        assert!(line.contains("transitions[0]"), "{line}");
    }

    #[test]
    fn a_refused_upload_names_where_it_would_have_gone() {
        assert_eq!(
            upload_location("b", "p/", b"{", Some("order")),
            "s3://b/p/order.json"
        );
        assert_eq!(
            upload_location("b", "p/", br#"{"aggregateType":"invoice"}"#, None),
            "s3://b/p/invoice.json"
        );
        assert_eq!(upload_location("b", "p/", b"not json", None), "s3://b/p/");
    }

    struct Status(u16);

    impl std::fmt::Debug for Status {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "HTTP {}", self.0)
        }
    }

    impl HttpStatus for Status {
        fn status_code(&self) -> u16 {
            self.0
        }
    }

    #[test]
    fn a_304_is_not_modified_and_a_timeout_is_a_failure() {
        use aws_sdk_s3::error::ErrorMetadata;
        let not_modified: SdkError<GetObjectError, Status> = SdkError::service_error(
            GetObjectError::generic(ErrorMetadata::builder().build()),
            Status(304),
        );
        assert!(matches!(classify(&not_modified), Fetched::NotModified));
        let no_such_key: SdkError<GetObjectError, Status> = SdkError::service_error(
            GetObjectError::generic(ErrorMetadata::builder().code("NoSuchKey").build()),
            Status(404),
        );
        assert!(matches!(classify(&no_such_key), Fetched::NoSuchKey));
        let no_bucket: SdkError<GetObjectError, Status> = SdkError::service_error(
            GetObjectError::generic(ErrorMetadata::builder().code("NoSuchBucket").build()),
            Status(404),
        );
        assert!(matches!(classify(&no_bucket), Fetched::Failed(m) if m.contains("NoSuchBucket")));
        let timeout: SdkError<GetObjectError, Status> = SdkError::timeout_error("slow");
        assert!(matches!(classify(&timeout), Fetched::Failed(_)));
    }
}
