//! The S3 config source against moto: upload with validation, the TTL cache,
//! revalidation by ETag (304), a bad config never replacing a good one, an
//! older version replacing a newer one only when forced (and logged), and
//! key prefixes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use config_s3::{
    S3ConfigSource, UploadError, deployed_version, fetch_config, force_upload_config, object_key,
    upload_config,
};
use handler_core::{ConfigSource, ConfigSourceError};
use testkit::moto::{moto, unique_name};

/// The TTL of the tests that wait it out, and how long they wait.
const TTL: Duration = Duration::from_millis(300);
const PAST_TTL: Duration = Duration::from_millis(450);

/// The repository's order config (version 1).
fn order_v1() -> Vec<u8> {
    std::fs::read(testkit::scenario::config_dir().join("order.json")).expect("config/order.json")
}

/// The same config at version 2.
fn order_v2() -> Vec<u8> {
    let text = String::from_utf8(order_v1()).expect("UTF-8");
    assert!(
        text.contains(r#""version": 1,"#),
        "config/order.json changed shape"
    );
    text.replacen(r#""version": 1,"#, r#""version": 2,"#, 1)
        .into_bytes()
}

/// Valid JSON of the right shape whose initial state is not a state.
fn order_invalid() -> Vec<u8> {
    let text = String::from_utf8(order_v1()).expect("UTF-8");
    text.replacen(
        r#""initialState": "New""#,
        r#""initialState": "Nowhere""#,
        1,
    )
    .into_bytes()
}

/// Records the HTTP status of every GetObject the client sends.
#[derive(Debug, Clone, Default)]
struct GetObjectLog(Arc<Mutex<Vec<u16>>>);

impl GetObjectLog {
    fn statuses(&self) -> Vec<u16> {
        self.0.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Intercept for GetObjectLog {
    fn name(&self) -> &'static str {
        "GetObjectLog"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg
            .load::<Metadata>()
            .is_some_and(|m| m.name() == "GetObject")
        {
            self.0
                .lock()
                .unwrap()
                .push(context.response().status().as_u16());
        }
        Ok(())
    }
}

/// An S3 client on moto that logs its GetObject requests, and a fresh bucket.
async fn bucket() -> (aws_sdk_s3::Client, String, GetObjectLog) {
    let log = GetObjectLog::default();
    let sdk = moto().sdk_config().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .interceptor(log.clone())
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let bucket = unique_name("configs");
    client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    (client, bucket, log)
}

/// Puts bytes as they are, bypassing validation.
async fn put_raw(client: &aws_sdk_s3::Client, bucket: &str, key: &str, bytes: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(bytes.into())
        .send()
        .await
        .expect("PutObject");
}

#[tokio::test]
async fn an_uploaded_config_is_served_and_a_missing_type_is_not_found() {
    let (client, bucket, _) = bucket().await;
    let up = upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .expect("upload");
    assert_eq!(up.key, "order.json");
    assert_eq!((up.aggregate_type.as_str(), up.version), ("order", 1));
    assert!(up.etag.is_some(), "PutObject returns an ETag");

    let source = S3ConfigSource::new(client.clone(), &bucket, "");
    let order = source.state_machine("order").await.expect("order config");
    assert_eq!((order.aggregate_type(), order.version()), ("order", 1));

    let missing = source.state_machine("invoice").await.unwrap_err();
    assert_eq!(
        missing,
        ConfigSourceError::NotFound {
            aggregate_type: "invoice".into(),
            location: format!("s3://{bucket}/invoice.json"),
        }
    );
    assert!(missing.is_permanent());

    // What `config diff` will read: the deployed bytes and the same ETag.
    let (bytes, etag) = fetch_config(&client, &bucket, "", "order")
        .await
        .expect("fetch")
        .expect("present");
    assert_eq!(bytes, order_v1());
    assert_eq!(etag, up.etag);
    assert_eq!(
        fetch_config(&client, &bucket, "", "invoice").await,
        Ok(None)
    );
}

#[tokio::test]
async fn a_change_is_seen_only_after_the_ttl() {
    let (client, bucket, _) = bucket().await;
    upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .expect("upload v1");
    let source = S3ConfigSource::new(client.clone(), &bucket, "").with_ttl(TTL);
    let read_at = Instant::now();
    assert_eq!(source.state_machine("order").await.unwrap().version(), 1);

    let up = upload_config(&client, &bucket, "", &order_v2(), Some("order"))
        .await
        .expect("upload v2");
    assert_eq!(up.version, 2);
    let cached = source.state_machine("order").await.unwrap().version();
    // The cache was filled after `read_at`; only a very slow upload (a loaded
    // machine) could have outlived the TTL already.
    if read_at.elapsed() < TTL {
        assert_eq!(cached, 1, "within the TTL the cached config answers");
    }

    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(source.state_machine("order").await.unwrap().version(), 2);
}

#[tokio::test]
async fn an_unchanged_config_is_revalidated_by_etag_once_per_ttl() {
    let (client, bucket, log) = bucket().await;
    upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .expect("upload");
    // The upload's own GetObject (the deployed version) is not the source's.
    log.clear();
    let source = S3ConfigSource::new(client.clone(), &bucket, "").with_ttl(TTL);

    // Each "no request within the TTL" is checked only when the TTL has
    // not run out meanwhile (timed from before the filling request, so
    // never late), so that a stalled machine cannot fail it.
    let filled_after = Instant::now();
    let first = source.state_machine("order").await.unwrap();
    assert_eq!(log.statuses(), [200]);
    for _ in 0..20 {
        let again = source.state_machine("order").await.unwrap();
        assert!(Arc::ptr_eq(&first, &again));
    }
    if filled_after.elapsed() < TTL {
        assert_eq!(log.statuses(), [200], "no request within the TTL");
    }

    tokio::time::sleep(PAST_TTL).await;
    log.clear();
    let revalidated_after = Instant::now();
    let revalidated = source.state_machine("order").await.unwrap();
    assert_eq!(
        log.statuses(),
        [304],
        "one conditional GetObject, answered Not Modified"
    );
    assert!(
        Arc::ptr_eq(&first, &revalidated),
        "a 304 keeps the compiled machine"
    );

    // The 304 restarted the TTL.
    source.state_machine("order").await.unwrap();
    if revalidated_after.elapsed() < TTL {
        assert_eq!(log.statuses(), [304]);
    }
}

#[tokio::test]
async fn an_invalid_config_is_refused_and_the_previous_one_keeps_working() {
    let (client, bucket, log) = bucket().await;
    let good = upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .expect("upload v1");
    let source = S3ConfigSource::new(client.clone(), &bucket, "").with_ttl(TTL);
    let v1 = source.state_machine("order").await.unwrap();

    // Refused before anything is written, naming the fault.
    let refused = upload_config(&client, &bucket, "", &order_invalid(), Some("order"))
        .await
        .unwrap_err();
    let UploadError::Invalid { location, error } = &refused else {
        panic!("expected Invalid, got {refused:?}");
    };
    assert_eq!(location, &format!("s3://{bucket}/order.json"));
    assert!(
        error.faults.iter().any(|f| f.path == "initialState"),
        "{error}"
    );
    assert!(refused.to_string().contains("Nowhere"), "{refused}");
    // Declaring another type than expected is refused too.
    let wrong = upload_config(&client, &bucket, "", &order_v1(), Some("invoice"))
        .await
        .unwrap_err();
    assert!(
        matches!(&wrong, UploadError::WrongType { declared, expected, .. }
            if declared == "order" && expected == "invoice"),
        "{wrong:?}"
    );
    let (bytes, etag) = fetch_config(&client, &bucket, "", "order")
        .await
        .unwrap()
        .expect("still there");
    assert_eq!(
        (bytes, etag),
        (order_v1(), good.etag.clone()),
        "nothing was written"
    );
    assert!(
        fetch_config(&client, &bucket, "", "invoice")
            .await
            .unwrap()
            .is_none()
    );

    // Someone bypasses validation: the previous config keeps working.
    log.clear();
    put_raw(&client, &bucket, "order.json", order_invalid()).await;
    tokio::time::sleep(PAST_TTL).await;
    let kept = source
        .state_machine("order")
        .await
        .expect("the last good one");
    assert_eq!(kept.version(), 1);
    assert!(Arc::ptr_eq(&v1, &kept));
    // The old ETag is kept, so each TTL downloads (200, not 304) and reports again.
    tokio::time::sleep(PAST_TTL).await;
    assert!(Arc::ptr_eq(
        &v1,
        &source.state_machine("order").await.unwrap()
    ));
    assert_eq!(log.statuses(), [200, 200]);

    // Once fixed, the fix is picked up.
    upload_config(&client, &bucket, "", &order_v2(), Some("order"))
        .await
        .expect("upload v2");
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(source.state_machine("order").await.unwrap().version(), 2);
}

#[tokio::test]
async fn with_no_good_config_ever_an_invalid_one_is_a_transient_error() {
    let (client, bucket, _) = bucket().await;
    put_raw(&client, &bucket, "order.json", order_invalid()).await;
    let source = S3ConfigSource::new(client.clone(), &bucket, "");
    let err = source.state_machine("order").await.unwrap_err();
    let location = format!("s3://{bucket}/order.json");
    assert!(
        matches!(&err, ConfigSourceError::Invalid { location: l, .. } if *l == location),
        "{err:?}"
    );
    assert!(err.to_string().contains(&location), "{err}");
    assert!(err.to_string().contains("initialState"), "{err}");
    assert!(!err.is_permanent());

    // A config under another type's name.
    put_raw(&client, &bucket, "invoice.json", order_v1()).await;
    let err = source.state_machine("invoice").await.unwrap_err();
    assert_eq!(
        err,
        ConfigSourceError::WrongType {
            location: format!("s3://{bucket}/invoice.json"),
            declared: "order".into(),
            expected: "invoice".into(),
        }
    );
    assert!(!err.is_permanent());
}

#[tokio::test]
async fn a_missing_bucket_is_unavailable_not_missing_config() {
    let sdk = moto().sdk_config().await;
    let client = aws_sdk_s3::Client::new(&sdk);
    let source = S3ConfigSource::new(client, unique_name("no-such-bucket"), "");
    let err = source.state_machine("order").await.unwrap_err();
    assert!(
        matches!(&err, ConfigSourceError::Unavailable { reason, .. } if reason.contains("NoSuchBucket")),
        "{err:?}"
    );
    assert!(!err.is_permanent());
    // The SDK's error is kept as the source, not only its text.
    let source = std::error::Error::source(&err).expect("the SDK's error as the source");
    assert!(
        test_doubles::error_chain(source).contains("NoSuchBucket"),
        "{}",
        test_doubles::error_chain(source)
    );
    // Uploading's fetch keeps it too.
    let sdk = moto().sdk_config().await;
    let err = config_s3::fetch_config(
        &aws_sdk_s3::Client::new(&sdk),
        &unique_name("no-such-bucket"),
        "",
        "order",
    )
    .await
    .unwrap_err();
    let source = std::error::Error::source(&err).expect("the SDK's error as the source");
    assert!(
        test_doubles::error_chain(source).contains("NoSuchBucket"),
        "{err:?}"
    );
}

/// `deployed_configs`: every `{prefix}{type}.json` directly under the
/// prefix, by type, each loaded as the handler would (invalid, wrong type).
#[tokio::test]
async fn the_deployed_configs_are_listed_by_type_and_each_loaded_as_the_handler_would() {
    let (client, bucket, _) = bucket().await;
    put_raw(&client, &bucket, "p/order.json", order_v1()).await;
    put_raw(&client, &bucket, "p/invoice.json", order_v1()).await;
    put_raw(&client, &bucket, "p/broken.json", order_invalid()).await;
    put_raw(&client, &bucket, "p/nested/order.json", order_v1()).await;
    put_raw(&client, &bucket, "p/notes.txt", b"x".to_vec()).await;
    put_raw(&client, &bucket, "other.json", order_v1()).await;
    let found = config_s3::deployed_configs(&client, &bucket, "p/")
        .await
        .expect("listed");
    let types: Vec<&str> = found.iter().map(|c| c.aggregate_type.as_str()).collect();
    assert_eq!(types, ["broken", "invoice", "order"]);
    assert_eq!(found[2].location, format!("s3://{bucket}/p/order.json"));
    assert_eq!(
        found[2].loaded.as_ref().expect("valid").aggregate_type(),
        "order"
    );
    assert!(matches!(
        &found[0].loaded,
        Err(ConfigSourceError::Invalid { .. })
    ));
    assert!(matches!(
        &found[1].loaded,
        Err(ConfigSourceError::WrongType { declared, expected, .. })
            if declared == "order" && expected == "invoice"
    ));
    assert!(
        config_s3::deployed_configs(&client, &bucket, "empty/")
            .await
            .expect("listed")
            .is_empty()
    );
}

#[tokio::test]
async fn the_prefix_is_used_as_given() {
    assert_eq!(object_key("configs/", "order"), "configs/order.json");
    assert_eq!(object_key("", "order"), "order.json");

    let (client, bucket, _) = bucket().await;
    let up = upload_config(&client, &bucket, "configs/", &order_v1(), None)
        .await
        .expect("upload");
    assert_eq!(up.key, "configs/order.json");
    client
        .head_object()
        .bucket(&bucket)
        .key("configs/order.json")
        .send()
        .await
        .expect("the object is at configs/order.json");

    let prefixed = S3ConfigSource::new(client.clone(), &bucket, "configs/");
    assert_eq!(prefixed.state_machine("order").await.unwrap().version(), 1);
    let bare = S3ConfigSource::new(client.clone(), &bucket, "");
    assert_eq!(
        bare.state_machine("order").await.unwrap_err(),
        ConfigSourceError::NotFound {
            aggregate_type: "order".into(),
            location: format!("s3://{bucket}/order.json"),
        }
    );

    let up = upload_config(&client, &bucket, "", &order_v2(), None)
        .await
        .expect("upload");
    assert_eq!(up.key, "order.json");
    assert_eq!(bare.state_machine("order").await.unwrap().version(), 2);
}

/// Log lines written while a guard from [`capture_logs`] lives (this
/// thread only: `#[tokio::test]` runs the test on one thread).
#[derive(Clone, Default)]
struct Logs(test_doubles::LogBuffer);

impl Logs {
    fn lines(&self) -> Vec<serde_json::Value> {
        self.0
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON log line"))
            .collect()
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.0.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn an_older_version_replaces_a_newer_one_only_when_forced_and_is_logged() {
    let (client, bucket, _) = bucket().await;
    upload_config(&client, &bucket, "", &order_v2(), Some("order"))
        .await
        .expect("upload v2");
    let source = S3ConfigSource::new(client.clone(), &bucket, "").with_ttl(TTL);
    assert_eq!(source.state_machine("order").await.unwrap().version(), 2);

    // Refused against the deployed object, naming both versions; nothing written.
    let refused = upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        UploadError::Older {
            location: format!("s3://{bucket}/order.json"),
            deployed: 2,
            uploading: 1,
        }
    );
    assert_eq!(
        deployed_version(&client, &bucket, "", "order").await,
        Ok(Some(2))
    );
    // The same version again, or a newer one, is not a downgrade.
    upload_config(&client, &bucket, "", &order_v2(), Some("order"))
        .await
        .expect("the same version again");
    assert_eq!(
        deployed_version(&client, &bucket, "", "invoice").await,
        Ok(None)
    );

    // Forced, it goes back; the source serves it and warns.
    let (logs, _guard) = capture_logs();
    let up = force_upload_config(&client, &bucket, "", &order_v1(), Some("order"))
        .await
        .expect("forced");
    assert_eq!(up.version, 1);
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(source.state_machine("order").await.unwrap().version(), 1);
    let warnings: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["level"] == "WARN")
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let fields = &warnings[0]["fields"];
    assert_eq!(fields["version"], 1, "{fields}");
    assert_eq!(fields["previous"], 2, "{fields}");
    assert_eq!(fields["location"], format!("s3://{bucket}/order.json"));

    // Going up again is no warning.
    upload_config(&client, &bucket, "", &order_v2(), Some("order"))
        .await
        .expect("upload v2");
    tokio::time::sleep(PAST_TTL).await;
    assert_eq!(source.state_machine("order").await.unwrap().version(), 2);
    assert_eq!(
        logs.lines().iter().filter(|l| l["level"] == "WARN").count(),
        1
    );
}
