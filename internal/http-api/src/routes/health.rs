//! `GET /healthz`: 200 when the store and the config source answer.

use axum::Json;
use axum::extract::State;
use handler_core::AggregateKey;
use serde_json::{Value, json};

use crate::api::Api;
use crate::problem::Problem;

/// Whether the store and configs answer.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses(
        (status = 200, description = "The store and the configs answer", body = Object, example = json!({"status": "ok"})),
        (status = 503, description = "One of them does not", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn healthz(State(api): State<Api>) -> Result<Json<Value>, Problem> {
    // One read of a key no command can write (`#` is refused in ids).
    let probe = AggregateKey::new("healthz", "#probe");
    api.backend
        .head(&probe)
        .await
        .map_err(|_| Problem::store_unavailable())?;
    // A type no config has: a source that answers says "unknown" (permanent).
    match api.backend.config("healthz.probe").await {
        Err(error) if !error.is_permanent() => Err(Problem::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "config_unavailable",
            "Config source unavailable",
            "the config source did not answer",
        )),
        _ => Ok(Json(json!({"status": "ok"}))),
    }
}
