//! The objects: where a type's config lives, one `GetObject` and what it
//! came to, and compiling what it brought. Shared by reading and uploading.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use handler_core::Cause;

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

pub(crate) fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// What one GetObject came to.
pub(crate) enum Fetched {
    /// 200: the body and its ETag.
    Body(Vec<u8>, Option<String>),
    /// 304 to `If-None-Match`.
    NotModified,
    /// 404 `NoSuchKey`.
    NoSuchKey,
    /// Anything else: the SDK's full message, and its error.
    Failed(String, Cause),
}

pub(crate) async fn get_object(
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
        Err(err) => classify(err),
    }
}

async fn read_body(output: GetObjectOutput) -> Fetched {
    let etag = output.e_tag().map(str::to_owned);
    match output.body.collect().await {
        Ok(data) => Fetched::Body(data.into_bytes().to_vec(), etag),
        Err(e) => Fetched::Failed(format!("reading the object body: {e}"), Cause::new(e)),
    }
}

pub(crate) fn classify<R>(err: SdkError<GetObjectError, R>) -> Fetched
where
    R: HttpStatus + std::fmt::Debug + Send + Sync + 'static,
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
    Fetched::Failed(sdk_error::describe(&err), Cause::new(err))
}

/// The HTTP status of a raw response (kept generic so the classification
/// can be unit-tested without a live response type).
pub(crate) trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handler_core::ConfigSourceError;
    use handler_core::config_source::compile;

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
        assert!(matches!(classify(not_modified), Fetched::NotModified));
        let no_such_key: SdkError<GetObjectError, Status> = SdkError::service_error(
            GetObjectError::generic(ErrorMetadata::builder().code("NoSuchKey").build()),
            Status(404),
        );
        assert!(matches!(classify(no_such_key), Fetched::NoSuchKey));
        let no_bucket: SdkError<GetObjectError, Status> = SdkError::service_error(
            GetObjectError::generic(ErrorMetadata::builder().code("NoSuchBucket").build()),
            Status(404),
        );
        assert!(matches!(classify(no_bucket), Fetched::Failed(m, _) if m.contains("NoSuchBucket")));
        let timeout: SdkError<GetObjectError, Status> = SdkError::timeout_error("slow");
        assert!(matches!(classify(timeout), Fetched::Failed(..)));
    }
}
