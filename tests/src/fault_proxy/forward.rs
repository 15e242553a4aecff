//! What the proxy does with each request: decide its fate, forward it or
//! answer in moto's place.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use rand::Rng;
use rand::rngs::StdRng;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::responses::{error_500, throttled};
use super::{Counters, Exchange, FaultPlan, OperationTimes, ProxyError, SeenRequest};

/// One request's fate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Fate {
    Forward,
    Error500,
    Throttle,
    Delay(Duration),
    Drop,
}

pub(super) struct Shared {
    pub(super) upstream: Uri,
    pub(super) plan: FaultPlan,
    pub(super) rng: Mutex<(StdRng, u64)>,
    pub(super) client: Client<HttpConnector, Full<Bytes>>,
    /// Held while a DynamoDB request is upstream (see
    /// [`FaultPlan::serialize_dynamodb`]).
    pub(super) dynamodb: tokio::sync::Mutex<()>,
    pub(super) counters: Counters,
    pub(super) times: Mutex<BTreeMap<String, OperationTimes>>,
    /// `Some` once [`FaultProxy::record`] was called.
    pub(super) seen: Mutex<Option<Vec<SeenRequest>>>,
    /// `Some` once [`FaultProxy::record_exchanges`] was called.
    pub(super) exchanges: Mutex<Option<Vec<Exchange>>>,
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
        let sent_body = body.clone();
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
            let op = times.entry(operation.clone()).or_default();
            op.count += 1;
            op.upstream += took;
            op.slowest = op.slowest.max(took);
            op.queued += sent - asked;
        }
        let (mut parts, body) = answered.map_err(ProxyError::other)?;
        if let Some(exchanges) = self.exchanges.lock().expect("exchanges lock").as_mut() {
            exchanges.push(Exchange {
                operation,
                path,
                request: sent_body,
                status: parts.status.as_u16(),
                answer: body.clone(),
            });
        }
        strip_hop_by_hop(&mut parts.headers);
        self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        Ok(Response::from_parts(parts, Full::new(body)))
    }
}

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
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
pub(super) fn operation(parts: &hyper::http::request::Parts) -> String {
    parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .map_or_else(|| format!("S3 {}", parts.method), str::to_owned)
}

pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
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
