//! The router called as a function (`tower::ServiceExt::oneshot`): every
//! route and every error, over the embedded store in memory and `config/`.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use batch_handler::Handler;
use handler_core::{Command, CommandQueue, QueueError};
use http_api::{HttpApi, Limits};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use store_sqlite::SqliteStore;
use tower::ServiceExt;

/// The commands a queue took, or a queue that takes none.
#[derive(Default)]
struct Queue {
    taken: Mutex<Vec<(String, String)>>,
    down: bool,
}

#[async_trait]
impl CommandQueue for Queue {
    async fn enqueue(&self, command: &Command, body: &str) -> Result<(), QueueError> {
        if self.down {
            return Err(QueueError::unavailable("down for the test"));
        }
        self.taken
            .lock()
            .unwrap()
            .push((command.command_id.clone(), body.to_owned()));
        Ok(())
    }
}

fn configs() -> Arc<config_dir::DirConfigSource> {
    Arc::new(config_dir::DirConfigSource::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config"
    )))
}

/// The API over a fresh store, with no queue (every command waited for).
fn api() -> Router {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    HttpApi::new(Arc::new(Handler::new(store, configs()))).router()
}

fn api_with(queue: Arc<Queue>, limits: Limits) -> Router {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    HttpApi::new(Arc::new(Handler::new(store, configs())))
        .with_queue(queue)
        .with_limits(limits)
        .router()
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Value,
}

async fn call(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header(header::CONTENT_TYPE, "application/json")
}

fn create(id: &str) -> Value {
    json!({"aggregateType": "order", "aggregateId": id, "command": "CreateOrder",
           "payload": {"itemId": "beans", "quantity": 1}})
}

async fn send(router: &Router, body: Value, headers: &[(&str, &str)]) -> Answer {
    let mut request = post("/commands");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    call(router, request.body(Body::from(body.to_string())).unwrap()).await
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

/// A problem+json answer with `status` and `code`.
fn assert_problem(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(answer.body["code"], code, "{}", answer.body);
    assert_eq!(answer.body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(answer.body[field].is_string(), "{field}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_command_waited_for_answers_its_outcome_version_state_and_events() {
    let router = api();
    let answer = send(&router, create("o-1"), &[("idempotency-key", "k-1")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["commandId"], "k-1");
    assert_eq!(answer.body["outcome"], "applied");
    assert_eq!(answer.body["version"], 1);
    assert_eq!(answer.body["state"], "Created");
    let events = answer.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["eventId"], "order#o-1@1");
    assert_eq!(events[0]["eventType"], "OrderCreated");
    assert_eq!(events[0]["payload"]["itemId"], "beans");
}

#[tokio::test]
async fn the_same_idempotency_key_twice_applies_once() {
    let router = api();
    let first = send(&router, create("o-1"), &[("idempotency-key", "k-1")]).await;
    let again = send(&router, create("o-1"), &[("idempotency-key", "k-1")]).await;
    assert_eq!(first.body["outcome"], "applied");
    assert_eq!(again.body["outcome"], "duplicate");
    assert_eq!(again.body["version"], 1);
    assert_eq!(again.body["events"], first.body["events"]);
    let events = call(&router, get("/aggregates/order/o-1/events")).await;
    assert_eq!(events.body["events"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_command_without_any_id_gets_a_fresh_one() {
    let router = api();
    let answer = send(&router, create("o-1"), &[]).await;
    assert_eq!(answer.status, StatusCode::OK);
    let id = answer.body["commandId"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_eq!(answer.body["events"][0]["commandId"], id);
}

#[tokio::test]
async fn the_body_command_id_and_a_different_header_are_422() {
    let router = api();
    let mut body = create("o-1");
    body["commandId"] = json!("c-1");
    let answer = send(&router, body.clone(), &[("idempotency-key", "k-1")]).await;
    assert_problem(&answer, 422, "idempotency_key_mismatch");
    let same = send(&router, body, &[("idempotency-key", "c-1")]).await;
    assert_eq!(same.body["outcome"], "applied");
}

#[tokio::test]
async fn rejections_answer_their_code_and_status() {
    let router = api();
    send(&router, create("o-1"), &[]).await;
    let cases = [
        // Created already: CreateOrder is not allowed there.
        (create("o-1"), 409, "invalid_transition"),
        (
            json!({"aggregateType": "order", "aggregateId": "o-2", "command": "CreateOrder",
                   "payload": {"itemId": "beans", "quantity": 0}}),
            422,
            "schema_violation",
        ),
        (
            json!({"aggregateType": "order", "aggregateId": "o-1", "command": "Fly"}),
            422,
            "unknown_command",
        ),
        (
            json!({"aggregateType": "nosuchtype", "aggregateId": "o-1", "command": "Fly"}),
            422,
            "unknown_aggregate_type",
        ),
        (
            json!({"aggregateType": "order", "aggregateId": "o-9", "command": "CreateOrder",
                   "payload": {"itemId": "beans", "quantity": 1}, "expectedVersion": 3}),
            409,
            "version_conflict",
        ),
        (
            json!({"aggregateType": "order", "command": "CreateOrder"}),
            422,
            "malformed_message",
        ),
        (
            json!({"aggregateType": "order", "aggregateId": "o-3", "command": "CreateOrder",
                   "<script>alert(1)</script>": true}),
            422,
            "malformed_message",
        ),
        (json!([1, 2]), 422, "malformed_message"),
    ];
    for (body, status, code) in cases {
        let answer = send(&router, body, &[]).await;
        assert_problem(&answer, status, code);
        assert!(
            !answer.body.to_string().contains("script"),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn an_id_reused_for_another_command_is_409() {
    let router = api();
    send(&router, create("o-1"), &[("idempotency-key", "k-1")]).await;
    let other = json!({"aggregateType": "order", "aggregateId": "o-1", "command": "RejectOrder"});
    let answer = send(&router, other, &[("idempotency-key", "k-1")]).await;
    assert_problem(&answer, 409, "command_id_reused");
}

#[tokio::test]
async fn without_prefer_wait_a_command_goes_on_the_queue() {
    let queue = Arc::new(Queue::default());
    let router = api_with(queue.clone(), Limits::default());
    let answer = send(&router, create("o-1"), &[("idempotency-key", "k-1")]).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_eq!(
        answer.body,
        json!({"commandId": "k-1", "status": "accepted"})
    );
    let taken = queue.taken.lock().unwrap().clone();
    assert_eq!(taken.len(), 1);
    let body: Value = serde_json::from_str(&taken[0].1).unwrap();
    assert_eq!(body["commandId"], "k-1", "the id is written into the body");
    // Nothing ran: the aggregate has no events yet.
    assert_problem(
        &call(&router, get("/aggregates/order/o-1")).await,
        404,
        "not_found",
    );
    // A bad envelope is refused before the queue.
    let bad = send(&router, json!({"aggregateType": "order"}), &[]).await;
    assert_problem(&bad, 422, "malformed_message");
    assert_eq!(queue.taken.lock().unwrap().len(), 1);
    // With Prefer: wait it runs in the request.
    let waited = send(&router, create("o-2"), &[("prefer", "wait")]).await;
    assert_eq!(waited.body["outcome"], "applied");
    assert_eq!(waited.headers["preference-applied"], "wait");
}

#[tokio::test]
async fn a_queue_that_does_not_take_the_command_is_503_with_retry_after() {
    let queue = Arc::new(Queue {
        down: true,
        ..Queue::default()
    });
    let router = api_with(queue, Limits::default());
    let answer = send(&router, create("o-1"), &[]).await;
    assert_problem(&answer, 503, "queue_unavailable");
    assert_eq!(answer.headers[header::RETRY_AFTER], "1");
}

#[tokio::test]
async fn a_command_to_the_path_aggregate_fills_or_checks_the_body() {
    let router = api();
    let body = json!({"command": "CreateOrder", "payload": {"itemId": "beans", "quantity": 1}});
    let request = post("/aggregates/order/o-7/commands")
        .body(Body::from(body.to_string()))
        .unwrap();
    let answer = call(&router, request).await;
    assert_eq!(
        answer.body["events"][0]["aggregateId"], "o-7",
        "{}",
        answer.body
    );
    let other = create("o-8");
    let request = post("/aggregates/order/o-7/commands")
        .body(Body::from(other.to_string()))
        .unwrap();
    assert_problem(&call(&router, request).await, 422, "aggregate_mismatch");
}

#[tokio::test]
async fn an_aggregate_is_read_with_its_etag_and_304_when_unchanged() {
    let router = api();
    assert_problem(
        &call(&router, get("/aggregates/order/o-1")).await,
        404,
        "not_found",
    );
    send(&router, create("o-1"), &[]).await;
    let answer = call(&router, get("/aggregates/order/o-1")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.headers[header::ETAG], "\"1\"");
    assert_eq!(
        answer.body,
        json!({"aggregateType": "order", "aggregateId": "o-1", "state": "Created", "version": 1,
               "data": {"itemId": "beans", "quantity": 1},
               "alarms": answer.body["alarms"].clone()})
    );
    assert!(
        answer.body["alarms"]["reservation-timeout"].is_object(),
        "{}",
        answer.body
    );
    let request = Request::get("/aggregates/order/o-1")
        .header(header::IF_NONE_MATCH, "\"1\"")
        .body(Body::empty())
        .unwrap();
    let unchanged = call(&router, request).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers[header::ETAG], "\"1\"");
    let request = Request::get("/aggregates/order/o-1")
        .header(header::IF_NONE_MATCH, "\"0\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&router, request).await.status, StatusCode::OK);
}

#[tokio::test]
async fn events_are_paged_oldest_first() {
    let router = api();
    send(&router, create("o-1"), &[]).await;
    let reject = json!({"aggregateType": "order", "aggregateId": "o-1", "command": "RejectOrder"});
    send(&router, reject, &[]).await;
    let first = call(&router, get("/aggregates/order/o-1/events?limit=1")).await;
    assert_eq!(first.body["events"][0]["version"], 1);
    assert_eq!(first.body["next"], 1);
    let rest = call(&router, get("/aggregates/order/o-1/events?after=1&limit=1")).await;
    assert_eq!(rest.body["events"][0]["eventType"], "OrderRejected");
    assert_eq!(rest.body["next"], Value::Null);
    for bad in ["limit=0", "limit=1001", "limit=x", "after=-1"] {
        let answer = call(&router, get(&format!("/aggregates/order/o-1/events?{bad}"))).await;
        assert_problem(&answer, 400, "bad_request");
    }
    assert_problem(
        &call(&router, get("/aggregates/order/o-9/events")).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn a_type_is_listed_page_by_page() {
    let router = api();
    for id in ["o-1", "o-2", "o-3"] {
        send(&router, create(id), &[]).await;
    }
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            None => "/aggregates/order?limit=2".to_owned(),
            Some(after) => format!("/aggregates/order?limit=2&after={after}"),
        };
        let page = call(&router, get(&path)).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        for item in page.body["items"].as_array().unwrap() {
            assert_eq!(item["state"], "Created");
            seen.push(item["aggregateId"].as_str().unwrap().to_owned());
        }
        match page.body["next"].as_str() {
            Some(after) => next = Some(after.to_owned()),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ["o-1", "o-2", "o-3"]);
    assert_problem(
        &call(&router, get("/aggregates/..bad")).await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn a_trace_follows_a_correlation_in_causal_order() {
    let router = api();
    let mut body = create("o-1");
    body["metadata"] = json!({"correlationId": "flow-1"});
    send(&router, body, &[]).await;
    let trace = call(&router, get("/traces/flow-1")).await;
    assert_eq!(trace.status, StatusCode::OK, "{}", trace.body);
    assert_eq!(trace.body["correlationId"], "flow-1");
    assert_eq!(trace.body["events"][0]["eventId"], "order#o-1@1");
    assert_problem(
        &call(&router, get("/traces/nothing")).await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn health_is_200_when_the_store_and_configs_answer() {
    let answer = call(&api(), get("/healthz")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({"status": "ok"}));
}

#[tokio::test]
async fn the_protocol_errors_are_problems() {
    let router = api();
    assert_problem(&call(&router, get("/nowhere")).await, 404, "not_found");
    let wrong_method = Request::delete("/healthz").body(Body::empty()).unwrap();
    assert_problem(&call(&router, wrong_method).await, 405, "bad_request");
    let not_json = post("/commands").body(Body::from("{nope")).unwrap();
    assert_problem(&call(&router, not_json).await, 400, "bad_request");
    let form = Request::post("/commands")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("a=b"))
        .unwrap();
    assert_problem(&call(&router, form).await, 415, "unsupported_media_type");
    let bare = Request::post("/commands").body(Body::from("{}")).unwrap();
    assert_problem(&call(&router, bare).await, 415, "unsupported_media_type");
    let charset = Request::post("/commands")
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(create("o-1").to_string()))
        .unwrap();
    assert_eq!(call(&router, charset).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_whether_declared_or_not() {
    let router = api();
    let big = vec![b' '; http_api::MAX_BODY_BYTES + 1];
    let declared = post("/commands")
        .header(header::CONTENT_LENGTH, big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    assert_problem(&call(&router, declared).await, 413, "too_large");
    // A streamed body of unknown length is cut at the limit.
    let chunks = futures_stream(big);
    let streamed = post("/commands").body(chunks).unwrap();
    assert_problem(&call(&router, streamed).await, 413, "too_large");
}

/// `bytes` as a stream of 16 KiB chunks with no declared length.
fn futures_stream(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<axum::body::Bytes, std::io::Error>> = bytes
        .chunks(16 * 1024)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn hidden_characters_in_a_path_or_header_are_400() {
    let router = api();
    for path in [
        "/aggregates/order/o%E2%80%AE-1",
        "/aggregates/order/o%00-1",
        "/aggregates/order/%FF",
    ] {
        assert_problem(&call(&router, get(path)).await, 400, "bad_request");
    }
    let request = Request::get("/healthz")
        .header("x-note", "a\u{202e}b")
        .body(Body::empty())
        .unwrap();
    assert_problem(&call(&router, request).await, 400, "bad_request");
}

#[tokio::test]
async fn more_requests_than_the_limit_at_once_are_503() {
    // A limit of 0 slots: every request is one too many.
    let limits = Limits {
        concurrency: 0,
        ..Limits::default()
    };
    let router = api_with(Arc::new(Queue::default()), limits);
    let answer = call(&router, get("/healthz")).await;
    assert_problem(&answer, 503, "overloaded");
    assert_eq!(answer.headers[header::RETRY_AFTER], "1");
}

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let answer = call(&api(), get("/openapi.json")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["openapi"], "3.1.0");
    let paths: Vec<&str> = answer.body["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for route in [
        "/commands",
        "/aggregates/{type}/{id}/commands",
        "/aggregates/{type}/{id}",
        "/aggregates/{type}/{id}/events",
        "/aggregates/{type}",
        "/traces/{id}",
        "/types",
        "/types/{type}",
        "/types/{type}/diagram.svg",
        "/healthz",
        "/openapi.json",
    ] {
        assert!(paths.contains(&route), "{route} in {paths:?}");
    }
}

#[tokio::test]
async fn a_command_waited_for_is_bounded_by_the_hosts_deadline() {
    let router = api();
    // A deadline inside the handler's margin: nothing is started.
    let mut request = post("/commands")
        .body(Body::from(create("o-1").to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(http_api::Deadline(std::time::Instant::now()));
    let answer = call(&router, request).await;
    assert_problem(&answer, 503, "deadline");
    assert_problem(
        &call(&router, get("/aggregates/order/o-1")).await,
        404,
        "not_found",
    );
}
