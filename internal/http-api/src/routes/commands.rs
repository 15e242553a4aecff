//! `POST /commands` and `POST /aggregates/{type}/{id}/commands`: a command
//! message in; with `Prefer: wait` (or on a host with no queue) it runs
//! through the handler in the request, otherwise it goes on the queue.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use handler_core::{Applied, Batch, Command, InboundMessage, parse_command, publication};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::api::Api;
use crate::limits::Deadline;
use crate::problem::Problem;
use crate::routes::body::{read_json, require_json};

/// The command message (docs/reference.md §1). Documented here; parsed by
/// the handler's own parser.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(example = json!({
    "aggregateType": "order",
    "aggregateId": "order-42",
    "command": "CreateOrder",
    "payload": {"itemId": "coffee-beans", "quantity": 1},
    "metadata": {"correlationId": "c-1"}
}))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct CommandMessage {
    /// The idempotency key; the `Idempotency-Key` header when absent, or a
    /// fresh one when neither is given.
    command_id: Option<String>,
    aggregate_type: String,
    aggregate_id: String,
    command: String,
    #[schema(value_type = Option<Object>)]
    payload: Option<Map<String, Value>>,
    expected_version: Option<u64>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

/// What a command waited for did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "commandId": "c-1",
    "outcome": "applied",
    "version": 1,
    "state": "Placed",
    "events": [{
        "eventId": "order#order-42@1", "aggregateType": "order", "aggregateId": "order-42",
        "version": 1, "eventType": "OrderPlaced", "state": "Placed",
        "payload": {"itemId": "coffee-beans", "quantity": 1}, "metadata": {},
        "commandId": "c-1", "recordedAt": "2026-12-07T12:00:00.000Z", "configVersion": 1
    }]
}))]
pub(crate) struct CommandAnswer {
    command_id: String,
    /// `applied`, `duplicate` (the id was applied before; nothing new was
    /// written) or `stale` (a fired alarm with no effect).
    outcome: &'static str,
    /// The aggregate's version after the command.
    version: u64,
    /// The aggregate's state after the command.
    state: String,
    /// The command's events, as the event processor publishes them.
    #[schema(value_type = Vec<Object>)]
    events: Vec<Value>,
}

/// A command put on the queue.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"commandId": "c-1", "status": "accepted"}))]
pub(crate) struct Accepted {
    command_id: String,
    /// Always `accepted`.
    status: &'static str,
}

/// Sends a command.
#[utoipa::path(
    post,
    path = "/commands",
    tag = "commands",
    request_body(content = CommandMessage, content_type = "application/json"),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "The commandId, when the body has none"),
        ("Prefer" = Option<String>, Header, description = "`wait`: run the command in the request")
    ),
    responses(
        (status = 200, description = "Handled in the request (Prefer: wait)", body = CommandAnswer),
        (status = 202, description = "Put on the command queue", body = Accepted),
        (status = 400, description = "Not JSON, or a bad header", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Refused by the aggregate as it is", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over 256 KiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not sent as JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Never applicable: envelope, schema or guard", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Transient: send again", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn post_command(
    State(api): State<Api>,
    deadline: Option<Extension<Deadline>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deadline = deadline.map(|Extension(d)| d);
    accept(&api, &headers, body, None, deadline)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// Sends a command to the aggregate of the path; the body may leave out
/// `aggregateType` and `aggregateId`, and must agree with the path if it
/// has them.
#[utoipa::path(
    post,
    path = "/aggregates/{type}/{id}/commands",
    tag = "commands",
    request_body(content = Object, content_type = "application/json"),
    params(
        ("type" = String, Path, description = "The aggregate type"),
        ("id" = String, Path, description = "The aggregate id"),
        ("Idempotency-Key" = Option<String>, Header, description = "The commandId, when the body has none"),
        ("Prefer" = Option<String>, Header, description = "`wait`: run the command in the request")
    ),
    responses(
        (status = 200, description = "Handled in the request (Prefer: wait)", body = CommandAnswer),
        (status = 202, description = "Put on the command queue", body = Accepted),
        (status = 422, description = "The body names another aggregate, or is never applicable", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn post_aggregate_command(
    State(api): State<Api>,
    path: Result<Path<(String, String)>, PathRejection>,
    deadline: Option<Extension<Deadline>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deadline = deadline.map(|Extension(d)| d);
    let Ok(Path(path)) = path else {
        return Problem::bad_request("the path is not /aggregates/{type}/{id}/commands")
            .into_response();
    };
    accept(&api, &headers, body, Some(path), deadline)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn accept(
    api: &Api,
    headers: &HeaderMap,
    body: Body,
    path: Option<(String, String)>,
    deadline: Option<Deadline>,
) -> Result<Response, Problem> {
    require_json(headers)?;
    let idempotency_key = idempotency_key(headers)?;
    let prefer_wait = prefers_wait(headers);
    let mut value = read_json(headers, body, api.limits).await?;
    let command_id = if let Value::Object(message) = &mut value {
        if let Some((aggregate_type, aggregate_id)) = path {
            agree_with_path(message, "aggregateType", aggregate_type)?;
            agree_with_path(message, "aggregateId", aggregate_id)?;
        }
        settle_command_id(message, idempotency_key)?
    } else {
        idempotency_key.unwrap_or_default()
    };
    let text = value.to_string();
    let command = parse_command(&text, &command_id).map_err(|e| Problem::for_envelope(&e))?;
    match (&api.queue, prefer_wait) {
        (Some(queue), false) => {
            queue.enqueue(&command, &text).await.map_err(|_| {
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    "Queue unavailable",
                    "the command queue did not take the command; send the same request again",
                )
            })?;
            let accepted = Accepted {
                command_id: command.command_id,
                status: "accepted",
            };
            Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
        }
        _ => {
            let answer = run(api, command, text, deadline).await?;
            let mut response = Json(answer).into_response();
            if prefer_wait {
                response
                    .headers_mut()
                    .insert("preference-applied", HeaderValue::from_static("wait"));
            }
            Ok(response)
        }
    }
}

/// Runs the command through the handler in a task of its own, so that a
/// client that goes away does not cut it short: it commits or not, as a
/// queued message would.
async fn run(
    api: &Api,
    command: Command,
    text: String,
    deadline: Option<Deadline>,
) -> Result<CommandAnswer, Problem> {
    let backend = api.backend.clone();
    let batch = Batch {
        deadline: deadline.map(|Deadline(at)| at),
        ..Batch::standard(vec![InboundMessage::new(command.command_id.clone(), text)])
    };
    let report = tokio::spawn(async move { backend.handle(batch).await })
        .await
        .map_err(|_| Problem::store_unavailable())?;
    let outcome = report
        .outcomes
        .into_iter()
        .next()
        .ok_or_else(Problem::store_unavailable)?;
    let applied: Applied = outcome.result.map_err(|f| Problem::for_failure(&f))?;
    if !applied.duplicate
        && applied.stale.is_none()
        && let Some(notify) = &api.applied
    {
        notify.notify_one();
    }
    let key = &command.key;
    let (state, events) = if applied.stale.is_some() {
        let head = api
            .backend
            .head(key)
            .await
            .map_err(|_| Problem::store_unavailable())?;
        (head.map(|h| h.state).unwrap_or_default(), Vec::new())
    } else {
        let events = api
            .backend
            .events(key, applied.version.saturating_sub(1), 1)
            .await
            .map_err(|_| Problem::store_unavailable())?;
        let state = events.first().map(|e| e.state.clone()).unwrap_or_default();
        let events = events
            .iter()
            .map(|e| serde_json::from_str(&publication::detail(key, e)).unwrap_or(Value::Null))
            .collect();
        (state, events)
    };
    Ok(CommandAnswer {
        command_id: command.command_id,
        outcome: applied.outcome(),
        version: applied.version,
        state,
        events,
    })
}

/// The `Idempotency-Key` header, when sent: printable ASCII, not empty.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_owned())),
        _ => Err(Problem::bad_request(
            "the Idempotency-Key header must be printable ASCII and not empty",
        )),
    }
}

/// True when a `Prefer` header asks for `wait` (RFC 7240: `wait` or
/// `wait=N`, among other preferences).
fn prefers_wait(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|p| p.split(';').next())
        .map(|p| p.split('=').next().unwrap_or_default().trim())
        .any(|name| name.eq_ignore_ascii_case("wait"))
}

/// The command id: the body's, or the header's, or a fresh one; written
/// into the body. Both given and different is 422.
fn settle_command_id(
    message: &mut Map<String, Value>,
    idempotency_key: Option<String>,
) -> Result<String, Problem> {
    match (message.get("commandId"), idempotency_key) {
        (Some(Value::String(body)), Some(header)) if *body != header => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_mismatch",
            "Idempotency key mismatch",
            "the Idempotency-Key header and the body's commandId differ",
        )),
        (Some(Value::String(body)), _) => Ok(body.clone()),
        // Not a string: the envelope's parser says so.
        (Some(_), _) => Ok(String::new()),
        (None, header) => {
            let id = header.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            message.insert("commandId".to_owned(), Value::String(id.clone()));
            Ok(id)
        }
    }
}

/// The body's aggregate field, filled from the path when absent; 422 when
/// it names another aggregate.
fn agree_with_path(
    message: &mut Map<String, Value>,
    field: &str,
    from_path: String,
) -> Result<(), Problem> {
    match message.get(field) {
        None => {
            message.insert(field.to_owned(), Value::String(from_path));
            Ok(())
        }
        Some(Value::String(body)) if *body == from_path => Ok(()),
        Some(_) => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "aggregate_mismatch",
            "Aggregate mismatch",
            "the body names another aggregate than the path",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn prefer_wait_is_found_among_other_preferences() {
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_static("return=minimal, wait=5"));
        assert!(prefers_wait(&headers));
        headers.insert("prefer", HeaderValue::from_static("respond-async"));
        assert!(!prefers_wait(&headers));
    }

    #[test]
    fn a_body_without_an_id_takes_the_header_or_a_fresh_one() {
        let mut message = Map::new();
        let id = settle_command_id(&mut message, Some("k-1".into())).unwrap();
        assert_eq!((id.as_str(), &message["commandId"]), ("k-1", &json!("k-1")));
        let mut message = Map::new();
        let fresh = settle_command_id(&mut message, None).unwrap();
        assert_eq!(fresh.len(), 36);
        let mut message = json!({"commandId": "a"}).as_object().unwrap().clone();
        let err = settle_command_id(&mut message, Some("b".into())).unwrap_err();
        assert_eq!((err.status, err.code), (422, "idempotency_key_mismatch"));
    }
}
