//! Reading a request body as JSON within the limits: its content type, its
//! size (413 without reading past the limit) and how long the client takes
//! to send it (408).

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::limits::Limits;
use crate::problem::Problem;

/// 415 unless the content type is JSON (`application/json` or
/// `application/*+json`, any parameters).
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if is_json {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            "the body must be sent as Content-Type: application/json",
        ))
    }
}

/// The body as JSON, read no further than the limit.
pub(crate) async fn read_json(
    headers: &HeaderMap,
    body: Body,
    limits: Limits,
) -> Result<Value, Problem> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_bytes as u64) {
        return Err(Problem::too_large(limits.body_bytes));
    }
    let read = Limited::new(body, limits.body_bytes).collect();
    let bytes = match tokio::time::timeout(limits.read_timeout, read).await {
        Err(_) => {
            return Err(Problem::new(
                StatusCode::REQUEST_TIMEOUT,
                "bad_request",
                "Request timeout",
                "the body did not arrive in time",
            ));
        }
        Ok(Err(error)) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Err(Problem::too_large(limits.body_bytes));
        }
        Ok(Err(_)) => return Err(Problem::bad_request("the body could not be read")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    serde_json::from_slice(&bytes).map_err(|_| Problem::bad_request("the body is not JSON"))
}
