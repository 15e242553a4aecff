//! [`HttpApi`]: the routes over a handler, with the host's queue, limits and
//! the signal a local host waits on to run reactions.

use std::sync::Arc;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use batch_handler::Handler;
use handler_core::envelope::has_hidden_characters;
use handler_core::{
    AggregateIndex, CommandQueue, ConfigSource, Correlations, EventStore, FailureLog,
};
use tokio::sync::Notify;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::backend::Backend;
use crate::limits::Limits;
use crate::openapi::ApiDoc;
use crate::problem::Problem;
use crate::routes::{aggregates, commands, health, traces, types};

/// What every route shares.
pub(crate) struct Shared {
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) queue: Option<Arc<dyn CommandQueue>>,
    pub(crate) applied: Option<Arc<Notify>>,
    pub(crate) limits: Limits,
}

/// The HTTP API over one handler.
///
/// ```
/// # use std::sync::Arc;
/// # use batch_handler::Handler;
/// # use http_api::HttpApi;
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = Arc::new(store_sqlite::SqliteStore::in_memory()?);
/// let configs = Arc::new(config_dir::DirConfigSource::new(concat!(
///     env!("CARGO_MANIFEST_DIR"),
///     "/../../config"
/// )));
/// // No queue: every command runs in its request, as `cmdctl serve` does.
/// let router: axum::Router = HttpApi::new(Arc::new(Handler::new(store, configs))).router();
/// # let _ = router;
/// # Ok(())
/// # }
/// ```
pub struct HttpApi {
    shared: Shared,
}

impl HttpApi {
    /// The API over `handler`: no queue (every command is waited for),
    /// default [`Limits`].
    pub fn new<S, C>(handler: Arc<Handler<S, C>>) -> Self
    where
        S: EventStore + FailureLog + AggregateIndex + Correlations + 'static,
        C: ConfigSource + 'static,
    {
        Self {
            shared: Shared {
                backend: handler,
                queue: None,
                applied: None,
                limits: Limits::default(),
            },
        }
    }

    /// Puts commands sent without `Prefer: wait` on `queue` (202).
    pub fn with_queue(mut self, queue: Arc<dyn CommandQueue>) -> Self {
        self.shared.queue = Some(queue);
        self
    }

    /// Notifies `applied` after each command that wrote an event: a local
    /// host runs the reactions and due alarms then.
    pub fn notify_applied(mut self, applied: Arc<Notify>) -> Self {
        self.shared.applied = Some(applied);
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.shared.limits = limits;
        self
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.shared.limits
    }

    /// The router: every route of the reference's §10, the errors as
    /// problems, the concurrency limit around all of them.
    pub fn router(self) -> Router {
        let concurrency = self.shared.limits.concurrency;
        let (router, _) = api_router()
            .with_state(Arc::new(self.shared))
            .split_for_parts();
        router
            .route("/", axum::routing::get(crate::console::index))
            .route(
                "/console/app.js",
                axum::routing::get(crate::console::script),
            )
            .route(
                "/console/app.css",
                axum::routing::get(crate::console::style),
            )
            .fallback(|| async { Problem::not_found("no such route") })
            .method_not_allowed_fallback(|| async {
                Problem::new(
                    axum::http::StatusCode::METHOD_NOT_ALLOWED,
                    "bad_request",
                    "Method not allowed",
                    "the route does not take this method",
                )
            })
            .layer(middleware::from_fn(refuse_hidden_characters))
            .layer(
                ServiceBuilder::new()
                    .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
                        Problem::overloaded()
                    }))
                    .load_shed()
                    .layer(GlobalConcurrencyLimitLayer::new(concurrency)),
            )
    }
}

/// The OpenAPI 3.1 document of the routes, from the same registration the
/// router is built from.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().split_for_parts().1
}

pub(crate) type Api = Arc<Shared>;

fn api_router() -> OpenApiRouter<Api> {
    use utoipa::OpenApi as _;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(commands::post_command))
        .routes(routes!(commands::post_aggregate_command))
        .routes(routes!(aggregates::get_aggregate))
        .routes(routes!(aggregates::get_events))
        .routes(routes!(aggregates::list_aggregates))
        .routes(routes!(traces::get_trace))
        .routes(routes!(types::list_types))
        .routes(routes!(types::get_type))
        .routes(routes!(types::get_diagram))
        .routes(routes!(health::healthz))
        .routes(routes!(crate::openapi::get_openapi))
}

/// 400 for a path or a header that holds a control or an invisible
/// character (a bidi control, a zero-width space), before any route runs.
async fn refuse_hidden_characters(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let decoded = percent_decoded(path);
    if decoded.as_deref().is_none_or(has_hidden_characters) {
        return Problem::bad_request(
            "the path holds a control or invisible character, or is not UTF-8",
        )
        .into_response();
    }
    let hidden_header = request.headers().values().any(|value| {
        let bytes = value.as_bytes();
        bytes.iter().any(|b| *b < 0x20 && *b != b'\t' || *b == 0x7f)
            || std::str::from_utf8(bytes).is_ok_and(has_hidden_characters_but_tab)
    });
    if hidden_header {
        return Problem::bad_request("a header holds a control or invisible character")
            .into_response();
    }
    next.run(request).await
}

fn has_hidden_characters_but_tab(text: &str) -> bool {
    has_hidden_characters(&text.replace('\t', " "))
}

/// The path with its `%XX` escapes decoded; `None` when that is not UTF-8.
fn percent_decoded(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or_default());
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::percent_decoded;

    #[test]
    fn a_path_is_decoded_before_it_is_checked() {
        assert_eq!(
            percent_decoded("/a%E2%80%AEb").as_deref(),
            Some("/a\u{202e}b")
        );
        assert_eq!(percent_decoded("/a%zz").as_deref(), Some("/a%zz"));
        assert_eq!(percent_decoded("/%ff"), None);
    }
}
