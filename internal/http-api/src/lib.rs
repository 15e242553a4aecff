//! The HTTP API (docs/http-api.md, reference §10): commands in, state out,
//! as one axum router that `cmdctl serve` hosts on a socket and the HTTP
//! Lambda hosts through `lambda_http`.
//!
//! It owns:
//! - [`api`]'s [`HttpApi`]: the routes over a [`Handler`](batch_handler::Handler)
//!   (the queue, the limits, the signal a local host waits on), and
//!   [`openapi()`], the OpenAPI 3.1 document from the same registration;
//! - `routes`: `POST /commands` (and per aggregate), `GET` of an aggregate
//!   (with `ETag`), its events, a type's aggregates, a trace, the configs'
//!   types, one config and its diagram (SVG), `/healthz`, `/openapi.json`;
//! - `console`: the operator console (docs/console.md), three static files
//!   at `GET /` under a content-security policy, reading those routes;
//! - [`problem`]: every error as `application/problem+json`, its texts fixed
//!   per code, never a value from the request;
//! - [`limits`]: body size, read timeout, concurrency (503, never a queue);
//! - [`serve()`]: the router on a socket, with a header read timeout.
//!
//! What it may depend on: `handler-core`, `batch-handler`, `history`, and
//! the tokio HTTP stack (axum, tower, hyper); never an AWS crate, a store or
//! config adapter, or a terminal.
#![forbid(unsafe_code)]

pub mod api;
mod backend;
mod console;
pub mod limits;
mod openapi;
pub mod problem;
mod routes;
pub mod serve;

pub use api::{HttpApi, openapi};
pub use backend::Backend;
pub use limits::{Deadline, Limits, MAX_BODY_BYTES};
pub use problem::Problem;
pub use serve::serve;
