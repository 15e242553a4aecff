//! The read side: one aggregate (with `ETag`), its events (paged), and a
//! type's aggregates (paged, through the store's listing).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use handler_core::envelope::{check_aggregate_id, check_aggregate_type};
use handler_core::{AggregateKey, publication};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::api::Api;
use crate::problem::Problem;

/// The most a page holds.
pub(crate) const MAX_PAGE: usize = 1000;
/// A page's size when `limit` is not given.
pub(crate) const DEFAULT_PAGE: usize = 100;

/// One aggregate.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "aggregateType": "order", "aggregateId": "order-42", "state": "Placed",
    "version": 1, "data": {"itemId": "coffee-beans", "quantity": 1}, "alarms": {}
}))]
pub(crate) struct AggregateView {
    aggregate_type: String,
    aggregate_id: String,
    state: String,
    version: u64,
    #[schema(value_type = Object)]
    data: Value,
    /// The alarms it has set, by name.
    #[schema(value_type = Object)]
    alarms: Value,
}

/// A page of an aggregate's events.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "aggregateType": "order", "aggregateId": "order-42",
    "events": [{
        "eventId": "order#order-42@1", "aggregateType": "order", "aggregateId": "order-42",
        "version": 1, "eventType": "OrderPlaced", "state": "Placed",
        "payload": {"itemId": "coffee-beans", "quantity": 1}, "metadata": {},
        "commandId": "c-1", "recordedAt": "2026-12-07T12:00:00.000Z", "configVersion": 1
    }],
    "next": null
}))]
pub(crate) struct EventPage {
    aggregate_type: String,
    aggregate_id: String,
    /// Oldest first, each as the event processor publishes it.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
    /// The `after` of the next page; `null` on the last.
    next: Option<u64>,
}

/// A page of a type's aggregates.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "items": [{"aggregateId": "order-42", "state": "Placed", "version": 1}],
    "next": null
}))]
pub(crate) struct AggregatePage {
    items: Vec<AggregateItem>,
    /// The `after` of the next page; `null` on the last.
    next: Option<String>,
}

/// One aggregate of a listing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AggregateItem {
    aggregate_id: String,
    state: String,
    version: u64,
}

/// Paging of an aggregate's events.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventsQuery {
    /// Events after this version (default 0: from the first).
    after: Option<u64>,
    /// 1 to 1000 (default 100).
    limit: Option<usize>,
}

/// Paging of a type's aggregates.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// Aggregates after this id, in the listing's order.
    after: Option<String>,
    /// 1 to 1000 (default 100).
    limit: Option<usize>,
}

/// Reads one aggregate.
#[utoipa::path(
    get,
    path = "/aggregates/{type}/{id}",
    tag = "aggregates",
    params(
        ("type" = String, Path, description = "The aggregate type"),
        ("id" = String, Path, description = "The aggregate id"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag from an earlier answer")
    ),
    responses(
        (status = 200, description = "The aggregate; ETag: \"{version}\"", body = AggregateView),
        (status = 304, description = "Not changed since the ETag"),
        (status = 400, description = "Not a valid type or id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No events", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The store did not answer", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_aggregate(
    State(api): State<Api>,
    path: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let key = aggregate_key(path)?;
    let head = api
        .backend
        .head(&key)
        .await
        .map_err(|_| Problem::store_unavailable())?
        .ok_or_else(|| Problem::not_found("the aggregate has no events"))?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", head.version))
        .map_err(|_| Problem::store_unavailable())?;
    if not_modified(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let view = AggregateView {
        aggregate_type: key.aggregate_type,
        aggregate_id: key.aggregate_id,
        state: head.state,
        version: head.version,
        data: Value::Object(head.data),
        alarms: serde_json::to_value(&head.alarms).unwrap_or_else(|_| json!({})),
    };
    Ok(([(header::ETAG, etag)], Json(view)).into_response())
}

/// Reads a page of an aggregate's events.
#[utoipa::path(
    get,
    path = "/aggregates/{type}/{id}/events",
    tag = "aggregates",
    params(
        ("type" = String, Path, description = "The aggregate type"),
        ("id" = String, Path, description = "The aggregate id"),
        EventsQuery
    ),
    responses(
        (status = 200, description = "Its events, oldest first", body = EventPage),
        (status = 400, description = "A bad type, id or paging", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No events", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_events(
    State(api): State<Api>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventPage>, Problem> {
    let key = aggregate_key(path)?;
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request(
            "after must be a version and limit a number",
        ));
    };
    let limit = page_limit(query.limit)?;
    let after = query.after.unwrap_or(0);
    let mut events = api
        .backend
        .events(&key, after, limit + 1)
        .await
        .map_err(|_| Problem::store_unavailable())?;
    if events.is_empty() && after == 0 {
        return Err(Problem::not_found("the aggregate has no events"));
    }
    let next = (events.len() > limit).then(|| {
        events.truncate(limit);
        events.last().map_or(after, |e| e.version)
    });
    let events = events
        .iter()
        .map(|e| serde_json::from_str(&publication::detail(&key, e)).unwrap_or(Value::Null))
        .collect();
    Ok(Json(EventPage {
        aggregate_type: key.aggregate_type,
        aggregate_id: key.aggregate_id,
        events,
        next,
    }))
}

/// Lists a type's aggregates.
#[utoipa::path(
    get,
    path = "/aggregates/{type}",
    tag = "aggregates",
    params(("type" = String, Path, description = "The aggregate type"), ListQuery),
    responses(
        (status = 200, description = "A page of the type's aggregates", body = AggregatePage),
        (status = 400, description = "A bad type or paging", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn list_aggregates(
    State(api): State<Api>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<AggregatePage>, Problem> {
    let Ok(Path(aggregate_type)) = path else {
        return Err(Problem::bad_request("the path is not /aggregates/{type}"));
    };
    check_aggregate_type(&aggregate_type).map_err(|e| Problem::bad_request(e.to_string()))?;
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request("limit must be a number"));
    };
    let limit = page_limit(query.limit)?;
    if let Some(after) = &query.after {
        check_aggregate_id(after).map_err(|e| Problem::bad_request(e.to_string()))?;
    }
    let mut items = api
        .backend
        .list(&aggregate_type, query.after.as_deref(), limit + 1)
        .await
        .map_err(|_| Problem::store_unavailable())?;
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        items
            .last()
            .map(|i| i.aggregate_id.clone())
            .unwrap_or_default()
    });
    let items = items
        .into_iter()
        .map(|i| AggregateItem {
            aggregate_id: i.aggregate_id,
            state: i.state,
            version: i.version,
        })
        .collect();
    Ok(Json(AggregatePage { items, next }))
}

/// The path's key, checked as the envelope checks it: 400 otherwise.
fn aggregate_key(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<AggregateKey, Problem> {
    let Ok(Path((aggregate_type, aggregate_id))) = path else {
        return Err(Problem::bad_request(
            "the path is not /aggregates/{type}/{id}",
        ));
    };
    check_aggregate_type(&aggregate_type).map_err(|e| Problem::bad_request(e.to_string()))?;
    check_aggregate_id(&aggregate_id).map_err(|e| Problem::bad_request(e.to_string()))?;
    Ok(AggregateKey::new(aggregate_type, aggregate_id))
}

/// `limit`, 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
pub(crate) fn page_limit(limit: Option<usize>) -> Result<usize, Problem> {
    match limit.unwrap_or(DEFAULT_PAGE) {
        n @ 1..=MAX_PAGE => Ok(n),
        _ => Err(Problem::bad_request("limit must be from 1 to 1000")),
    }
}

/// True when `If-None-Match` lists `etag` (weak or strong) or is `*`.
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}
