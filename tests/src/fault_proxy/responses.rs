//! The errors the proxy answers in moto's place, in each protocol's shape.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

pub(super) fn error_500(json_protocol: bool) -> Response<Full<Bytes>> {
    if json_protocol {
        json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "injected",
        )
    } else {
        xml_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError")
    }
}

pub(super) fn throttled(json_protocol: bool) -> Response<Full<Bytes>> {
    if json_protocol {
        json_error(StatusCode::BAD_REQUEST, "ThrottlingException", "injected")
    } else {
        xml_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown")
    }
}

pub(super) fn json_error(
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "__type": code, "message": message }).to_string();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        HeaderName::from_static("x-amzn-errortype"),
        HeaderValue::from_static(code),
    );
    headers.insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

pub(super) fn xml_error(status: StatusCode, code: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>injected</Message><RequestId>fault-proxy</RequestId></Error>"
    );
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}
