//! The console's files and the config routes it reads, called as a
//! function: the page's headers (a content-security policy with no inline
//! allowance, `nosniff`, an `ETag`), the types, one config, and its
//! diagram with the state asked for marked.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use batch_handler::Handler;
use http_api::HttpApi;
use http_body_util::BodyExt;
use serde_json::Value;
use store_sqlite::SqliteStore;
use tower::ServiceExt;

fn api() -> Router {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let configs = Arc::new(config_dir::DirConfigSource::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config"
    )));
    HttpApi::new(Arc::new(Handler::new(store, configs))).router()
}

async fn get(
    router: &Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn the_page_and_its_files_carry_a_strict_policy() {
    let router = api();
    for (path, kind) in [
        ("/", "text/html"),
        ("/console/app.js", "text/javascript"),
        ("/console/app.css", "text/css"),
    ] {
        let (status, headers, body) = get(&router, path, &[]).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!body.is_empty());
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let (again, _, _) = get(&router, path, &[("if-none-match", &etag)]).await;
        assert_eq!(again, StatusCode::NOT_MODIFIED, "{path}");
    }
}

#[tokio::test]
async fn the_types_are_the_configs() {
    let (status, _, body) = get(&api(), "/types", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    let types: Vec<&str> = body["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for expected in ["inventory", "order", "payment", "ticket"] {
        assert!(types.contains(&expected), "{types:?}");
    }
}

#[tokio::test]
async fn one_config_is_answered_as_uploaded() {
    let (status, _, body) = get(&api(), "/types/payment", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["aggregateType"], "payment");
    assert!(
        body["transitions"]
            .as_array()
            .is_some_and(|t| !t.is_empty())
    );
}

#[tokio::test]
async fn the_diagram_marks_the_state_asked_for() {
    let router = api();
    let (status, headers, svg) =
        get(&router, "/types/payment/diagram.svg?state=Pending", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/svg+xml");
    assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY));
    assert!(svg.starts_with("<svg "), "{svg}");
    assert!(
        svg.contains("<g data-state=\"Pending\" data-current=\"true\">"),
        "{svg}"
    );
    assert_eq!(svg.matches("data-current").count(), 1);
    let (_, _, none) = get(&router, "/types/payment/diagram.svg", &[]).await;
    assert!(!none.contains("data-current"));
}

#[tokio::test]
async fn an_unknown_or_bad_type_is_a_problem() {
    let router = api();
    for (path, status) in [
        ("/types/nope", StatusCode::NOT_FOUND),
        ("/types/nope/diagram.svg", StatusCode::NOT_FOUND),
        ("/types/bad%20type", StatusCode::BAD_REQUEST),
        (
            "/types/bad%20type/diagram.svg?state=x",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, headers, body) = get(&router, path, &[]).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{path}"
        );
    }
}
