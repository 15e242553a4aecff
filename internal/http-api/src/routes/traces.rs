//! `GET /traces/{id}`: one correlation's commands and events, in causal
//! order, as `cmdctl trace --json` prints them.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use handler_core::envelope::has_hidden_characters;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::api::Api;
use crate::problem::Problem;

/// The most events a trace answers.
pub(crate) const MAX_TRACE: usize = 10_000;

/// How many events to answer.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TraceQuery {
    /// 1 to 10000 (default 1000).
    limit: Option<usize>,
}

/// Follows one correlation.
#[utoipa::path(
    get,
    path = "/traces/{id}",
    tag = "traces",
    params(("id" = String, Path, description = "A command id or a correlation id"), TraceQuery),
    responses(
        (status = 200, description = "`{correlationId, events: [...]}` in causal order", body = Object,
         example = json!({"correlationId": "c-1", "events": [{
            "eventId": "order#order-42@1", "aggregateType": "order", "aggregateId": "order-42",
            "version": 1, "eventType": "OrderPlaced", "state": "Placed", "commandId": "c-1",
            "causationId": null, "recordedAt": "2026-12-07T12:00:00.000Z"}]})),
        (status = 404, description = "No events of the correlation", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_trace(
    State(api): State<Api>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TraceQuery>, QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Ok(Path(id)) = path else {
        return Err(Problem::bad_request("the path is not /traces/{id}"));
    };
    if id.is_empty() || id.len() > 1024 || has_hidden_characters(&id) {
        return Err(Problem::bad_request(
            "the id is empty, too long or holds hidden characters",
        ));
    }
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request("limit must be a number"));
    };
    let limit = match query.limit.unwrap_or(1000) {
        n @ 1..=MAX_TRACE => n,
        _ => return Err(Problem::bad_request("limit must be from 1 to 10000")),
    };
    let events = api
        .backend
        .correlated(&id, limit)
        .await
        .map_err(|_| Problem::store_unavailable())?;
    if events.is_empty() {
        return Err(Problem::not_found("no events of this correlation"));
    }
    let events = history::causal_order(events);
    Ok(Json(history::trace_json(&id, &events)))
}
