//! A fault-injecting HTTP proxy on loopback, put between the AWS SDK and
//! moto: what a flaky network and a throttling AWS look like to a client.
//!
//! Per request, with a seeded RNG, the proxy does one of:
//! - answer **500** without forwarding (an internal error of the service);
//! - answer a **throttling error** without forwarding: for the JSON
//!   protocols (DynamoDB, SQS: the request has `x-amz-target`) status 400,
//!   `x-amzn-ErrorType: ThrottlingException` and a `__type` body; for S3
//!   status 503 with an XML `SlowDown` error;
//! - **delay** the request (up to [`FaultPlan::max_delay`]), then forward it;
//! - forward it and then **drop** the connection instead of answering: the
//!   request took effect upstream, the client sees a broken connection
//!   (hyper's "connection closed before message completed");
//! - or just forward it.
//!
//! Every kind is counted ([`FaultProxy::stats`]). On request
//! ([`FaultProxy::record`]) it also keeps every request's operation, path
//! and headers, for tests that check what a client sends. The proxy listens
//! on `127.0.0.1:0` only and stops when dropped.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::fault_proxy::{FaultPlan, FaultProxy};
//! let proxy = FaultProxy::start(testkit::moto::moto().endpoint(), FaultPlan::default()).await;
//! let sdk = testkit::moto::moto().sdk_config().await.to_builder()
//!     .endpoint_url(proxy.endpoint())
//!     .build();
//! # let _ = sdk;
//! # }
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// The service's error: it makes hyper close the connection unanswered.
type ProxyError = std::io::Error;

/// What share of requests gets which fault. The shares are probabilities
/// (0.0 to 1.0) of disjoint outcomes: their sum must not exceed 1.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultPlan {
    /// Seed of the RNG that decides each request's fate (in arrival order).
    pub seed: u64,
    /// Share answered 500 without forwarding.
    pub error_500: f64,
    /// Share answered with a throttling error without forwarding.
    pub throttle: f64,
    /// Share delayed (uniformly up to `max_delay`), then forwarded.
    pub delay: f64,
    /// The longest delay.
    pub max_delay: Duration,
    /// Share forwarded whose connection is then dropped instead of answered.
    pub drop_after_forward: f64,
    /// At most this many requests are faulted (delays included); every
    /// later one is forwarded untouched. `None`: no limit.
    pub max_faults: Option<u64>,
    /// Not a fault: forward DynamoDB requests (`x-amz-target:
    /// DynamoDB_...`) to the upstream one at a time. moto 5.2.1's
    /// `TransactWriteItems` is not atomic under concurrent requests: it
    /// snapshots the table, writes, and on a cancelled transaction restores
    /// the snapshot, erasing what other requests wrote in between (and the
    /// snapshot itself can fail with "dictionary changed size during
    /// iteration"). DynamoDB gives every request isolation; this gives it
    /// back. Default `true`.
    pub serialize_dynamodb: bool,
}

impl Default for FaultPlan {
    /// No fault at all: a plain forwarding proxy.
    fn default() -> Self {
        Self {
            seed: 0,
            error_500: 0.0,
            throttle: 0.0,
            delay: 0.0,
            max_delay: Duration::ZERO,
            drop_after_forward: 0.0,
            max_faults: None,
            serialize_dynamodb: true,
        }
    }
}

/// What the proxy did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultStats {
    /// Requests received.
    pub requests: u64,
    /// Requests that reached the upstream and were answered by it (delayed
    /// and dropped ones included).
    pub forwarded: u64,
    /// Answered 500 without forwarding.
    pub error_500: u64,
    /// Answered with a throttling error without forwarding.
    pub throttled: u64,
    /// Delayed before forwarding.
    pub delayed: u64,
    /// Forwarded, then the connection was dropped without an answer.
    pub dropped: u64,
    /// Forwarding failed (upstream unreachable): answered 502.
    pub upstream_errors: u64,
}

impl FaultStats {
    /// Faults injected: 500s, throttles, delays and drops.
    pub fn faults(&self) -> u64 {
        self.error_500 + self.throttled + self.delayed + self.dropped
    }
}

/// Upstream time of one operation, summed over the requests forwarded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationTimes {
    /// Requests forwarded.
    pub count: u64,
    /// Time the upstream took to answer them, in all.
    pub upstream: Duration,
    /// The slowest answer.
    pub slowest: Duration,
    /// Time they waited for their turn (see
    /// [`FaultPlan::serialize_dynamodb`]), in all.
    pub queued: Duration,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    forwarded: AtomicU64,
    error_500: AtomicU64,
    throttled: AtomicU64,
    delayed: AtomicU64,
    dropped: AtomicU64,
    upstream_errors: AtomicU64,
}

/// A request as the proxy received it (see [`FaultProxy::record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// Its `x-amz-target`, or `S3 METHOD` (also for the other query-protocol
    /// services; [`SeenRequest::service`] tells them apart).
    pub operation: String,
    /// Path and query.
    pub path: String,
    /// Every header, names in lowercase.
    pub headers: BTreeMap<String, String>,
}

impl SeenRequest {
    /// The service the request was signed for (`s3`, `sts`,
    /// `cloudformation`...), from its SigV4 credential scope.
    pub fn service(&self) -> Option<&str> {
        let authorization = self.headers.get("authorization")?;
        let scope = authorization.split("Credential=").nth(1)?;
        scope.split(['/', ',']).nth(3)
    }
}

/// One request's fate.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fate {
    Forward,
    Error500,
    Throttle,
    Delay(Duration),
    Drop,
}

struct Shared {
    upstream: Uri,
    plan: FaultPlan,
    rng: Mutex<(StdRng, u64)>,
    client: Client<HttpConnector, Full<Bytes>>,
    /// Held while a DynamoDB request is upstream (see
    /// [`FaultPlan::serialize_dynamodb`]).
    dynamodb: tokio::sync::Mutex<()>,
    counters: Counters,
    times: Mutex<BTreeMap<String, OperationTimes>>,
    /// `Some` once [`FaultProxy::record`] was called.
    seen: Mutex<Option<Vec<SeenRequest>>>,
}

impl Shared {
    fn fate(&self) -> Fate {
        let plan = &self.plan;
        let mut guard = self.rng.lock().expect("fault rng lock");
        let (rng, faulted) = &mut *guard;
        let roll: f64 = rng.random();
        let delay = if plan.max_delay.is_zero() {
            Duration::ZERO
        } else {
            rng.random_range(Duration::ZERO..=plan.max_delay)
        };
        if plan.max_faults.is_some_and(|max| *faulted >= max) {
            return Fate::Forward;
        }
        let mut edge = 0.0;
        let mut under = |share: f64| {
            edge += share;
            roll < edge
        };
        let fate = if under(plan.error_500) {
            Fate::Error500
        } else if under(plan.throttle) {
            Fate::Throttle
        } else if under(plan.drop_after_forward) {
            Fate::Drop
        } else if under(plan.delay) {
            Fate::Delay(delay)
        } else {
            Fate::Forward
        };
        if fate != Fate::Forward {
            *faulted += 1;
        }
        fate
    }

    async fn handle(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, ProxyError> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let json_protocol = request.headers().contains_key("x-amz-target");
        // Read the whole request first, so that a connection answered
        // without forwarding stays usable.
        let (parts, body) = request.into_parts();
        if let Some(seen) = self.seen.lock().expect("seen lock").as_mut() {
            seen.push(SeenRequest {
                operation: operation(&parts),
                path: parts
                    .uri
                    .path_and_query()
                    .map_or("/", |p| p.as_str())
                    .to_owned(),
                headers: parts
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
            });
        }
        let request = Request::from_parts(
            parts,
            body.collect().await.map_err(ProxyError::other)?.to_bytes(),
        );
        match self.fate() {
            Fate::Error500 => {
                self.counters.error_500.fetch_add(1, Ordering::Relaxed);
                Ok(error_500(json_protocol))
            }
            Fate::Throttle => {
                self.counters.throttled.fetch_add(1, Ordering::Relaxed);
                Ok(throttled(json_protocol))
            }
            Fate::Delay(delay) => {
                self.counters.delayed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(delay).await;
                self.forward(request).await
            }
            Fate::Drop => {
                let response = self.forward(request).await?;
                if response.status() == StatusCode::BAD_GATEWAY {
                    return Ok(response);
                }
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                // An error from the service makes hyper close the connection
                // without writing a response.
                Err(ProxyError::other(
                    "fault proxy: connection dropped after forwarding",
                ))
            }
            Fate::Forward => self.forward(request).await,
        }
    }

    /// Sends the request upstream and reads the whole answer. An unreachable
    /// upstream is answered 502.
    async fn forward(&self, request: Request<Bytes>) -> Result<Response<Full<Bytes>>, ProxyError> {
        let (mut parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let mut uri = self.upstream.clone().into_parts();
        uri.path_and_query = Some(path.parse().map_err(ProxyError::other)?);
        parts.uri = Uri::from_parts(uri).map_err(ProxyError::other)?;
        strip_hop_by_hop(&mut parts.headers);
        let one_at_a_time = self.plan.serialize_dynamodb
            && parts
                .headers
                .get("x-amz-target")
                .is_some_and(|t| t.as_bytes().starts_with(b"DynamoDB_"));
        let operation = operation(&parts);
        let upstream = Request::from_parts(parts, Full::new(body));
        let asked = Instant::now();
        let turn = if one_at_a_time {
            Some(self.dynamodb.lock().await)
        } else {
            None
        };
        let sent = Instant::now();
        let answered = match self.client.request(upstream).await {
            Ok(response) => {
                let (parts, body) = response.into_parts();
                body.collect().await.map(|body| (parts, body.to_bytes()))
            }
            Err(e) => {
                drop(turn);
                self.counters
                    .upstream_errors
                    .fetch_add(1, Ordering::Relaxed);
                let mut response = Response::new(Full::new(Bytes::from(format!(
                    "fault proxy: upstream unreachable: {e}"
                ))));
                *response.status_mut() = StatusCode::BAD_GATEWAY;
                return Ok(response);
            }
        };
        drop(turn);
        let took = sent.elapsed();
        {
            let mut times = self.times.lock().expect("times lock");
            let op = times.entry(operation).or_default();
            op.count += 1;
            op.upstream += took;
            op.slowest = op.slowest.max(took);
            op.queued += sent - asked;
        }
        let (mut parts, body) = answered.map_err(ProxyError::other)?;
        strip_hop_by_hop(&mut parts.headers);
        self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        Ok(Response::from_parts(parts, Full::new(body)))
    }
}

/// A running proxy. Dropping it stops it and closes its connections.
pub struct FaultProxy {
    endpoint: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("endpoint", &self.endpoint)
            .field("plan", &self.shared.plan)
            .field("stats", &self.stats())
            .finish()
    }
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`, moto's
    /// endpoint) on a free loopback port. Needs a tokio runtime.
    pub async fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let upstream: Uri = upstream
            .parse()
            .unwrap_or_else(|e| panic!("fault proxy: upstream {upstream:?}: {e}"));
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("fault proxy: bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("fault proxy: local addr")
            .port();
        let shared = Arc::new(Shared {
            upstream,
            rng: Mutex::new((StdRng::seed_from_u64(plan.seed), 0)),
            plan,
            client: Client::builder(TokioExecutor::new()).build_http(),
            dynamodb: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
            times: Mutex::default(),
            seen: Mutex::default(),
        });
        let task = tokio::spawn(serve(listener, shared.clone()));
        FaultProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`: give it to the SDK as `endpoint_url`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Upstream times so far, per operation (`DynamoDB_20120810.Query`,
    /// `AmazonSQS.ReceiveMessage`, `S3 GET`, ...).
    pub fn times(&self) -> BTreeMap<String, OperationTimes> {
        self.shared.times.lock().expect("times lock").clone()
    }

    /// Keeps every request received from now on ([`FaultProxy::seen`]).
    pub fn record(&self) {
        self.shared
            .seen
            .lock()
            .expect("seen lock")
            .get_or_insert_with(Vec::new);
    }

    /// The requests received since [`FaultProxy::record`], in arrival order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        self.shared
            .seen
            .lock()
            .expect("seen lock")
            .clone()
            .unwrap_or_default()
    }

    /// The counts so far.
    pub fn stats(&self) -> FaultStats {
        let c = &self.shared.counters;
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        FaultStats {
            requests: load(&c.requests),
            forwarded: load(&c.forwarded),
            error_500: load(&c.error_500),
            throttled: load(&c.throttled),
            delayed: load(&c.delayed),
            dropped: load(&c.dropped),
            upstream_errors: load(&c.upstream_errors),
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every
        // connection task.
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { shared.handle(request).await }
            });
            // A dropped connection ends here with the service's error: that
            // is the point, nothing to report.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The operation a request asks for: its `x-amz-target`, or `S3 METHOD`.
fn operation(parts: &hyper::http::request::Parts) -> String {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .map_or_else(|| format!("S3 {}", parts.method), str::to_owned)
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
    ] {
        headers.remove(name);
    }
}

fn error_500(json_protocol: bool) -> Response<Full<Bytes>> {
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

fn throttled(json_protocol: bool) -> Response<Full<Bytes>> {
    if json_protocol {
        json_error(StatusCode::BAD_REQUEST, "ThrottlingException", "injected")
    } else {
        xml_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown")
    }
}

fn json_error(status: StatusCode, code: &'static str, message: &str) -> Response<Full<Bytes>> {
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

fn xml_error(status: StatusCode, code: &str) -> Response<Full<Bytes>> {
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
