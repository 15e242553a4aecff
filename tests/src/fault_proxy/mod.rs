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
//! and headers, for tests that check what a client sends; and on request
//! ([`FaultProxy::record_exchanges`]) the body of every forwarded request
//! and of its answer, for the benches that compute capacity units from what
//! went over the wire. The proxy listens
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
mod forward;
mod responses;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::Uri;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use forward::{Shared, serve};

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

/// A forwarded request and its answer, bodies whole (see
/// [`FaultProxy::record_exchanges`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// Its `x-amz-target` (`DynamoDB_20120810.PutItem`), or `S3 METHOD`.
    pub operation: String,
    /// Path and query (for S3: `/BUCKET/KEY`, path-style on an IP endpoint).
    pub path: String,
    /// The request's body.
    pub request: bytes::Bytes,
    /// The answer's status.
    pub status: u16,
    /// The answer's body.
    pub answer: bytes::Bytes,
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
            exchanges: Mutex::default(),
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

    /// Keeps every forwarded request and its answer from now on, bodies
    /// included ([`FaultProxy::take_exchanges`]).
    pub fn record_exchanges(&self) {
        self.shared
            .exchanges
            .lock()
            .expect("exchanges lock")
            .get_or_insert_with(Vec::new);
    }

    /// The exchanges kept since the last take, in the order they were
    /// answered; recording goes on.
    pub fn take_exchanges(&self) -> Vec<Exchange> {
        self.shared
            .exchanges
            .lock()
            .expect("exchanges lock")
            .as_mut()
            .map(std::mem::take)
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
