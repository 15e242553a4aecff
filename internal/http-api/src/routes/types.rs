//! `GET /types` (the configs' aggregate types), `GET /types/{type}` (one
//! config) and `GET /types/{type}/diagram.svg` (its state diagram, one
//! state marked): what the console shows beside the store's reads. They
//! read the config source's cache only, never the store.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use handler_core::envelope::check_aggregate_type;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::api::Api;
use crate::console;
use crate::problem::Problem;

/// The aggregate types the configs define.
#[utoipa::path(
    get,
    path = "/types",
    tag = "console",
    responses(
        (status = 200, description = "`{types: [...]}`, sorted", body = Object,
         example = json!({"types": ["inventory", "order", "payment", "ticket"]})),
        (status = 503, description = "The config source did not answer", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn list_types(State(api): State<Api>) -> Result<Json<Value>, Problem> {
    let types = api
        .backend
        .types()
        .await
        .map_err(|_| config_unavailable())?;
    Ok(Json(json!({ "types": types })))
}

/// Which state to mark.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiagramQuery {
    /// A state of the config; an unknown or absent one marks none.
    state: Option<String>,
}

/// A config's state diagram.
#[utoipa::path(
    get,
    path = "/types/{type}/diagram.svg",
    tag = "console",
    params(("type" = String, Path, description = "An aggregate type"), DiagramQuery),
    responses(
        (status = 200, description = "The states and transitions as SVG, the state asked for marked", content_type = "image/svg+xml", body = String),
        (status = 400, description = "Not a valid type", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No config of that type", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_diagram(
    State(api): State<Api>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<DiagramQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Ok(Path(aggregate_type)) = path else {
        return Err(Problem::bad_request(
            "the path is not /types/{type}/diagram.svg",
        ));
    };
    check_aggregate_type(&aggregate_type).map_err(|e| Problem::bad_request(e.to_string()))?;
    let Ok(Query(query)) = query else {
        return Err(Problem::bad_request("state must be text"));
    };
    let machine = machine(&api, &aggregate_type).await?;
    let svg = handler_core::state_machine::svg::svg(machine.config(), query.state.as_deref());
    let mut response = (StatusCode::OK, svg).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("image/svg+xml"),
    );
    console::secure(headers);
    Ok(response)
}

/// One config, as it was uploaded (its schemas, guards and rules too).
#[utoipa::path(
    get,
    path = "/types/{type}",
    tag = "console",
    params(("type" = String, Path, description = "An aggregate type")),
    responses(
        (status = 200, description = "The config of the type, as reference §2 describes it", body = Object,
         example = json!({"aggregateType": "ticket", "version": 1, "initialState": "New",
            "states": ["New", "Open", "Closed"],
            "transitions": [{"command": "OpenTicket", "from": ["New"], "to": "Open", "event": "TicketOpened"}]})),
        (status = 400, description = "Not a valid type", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No config of that type", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The config source did not answer", body = Problem, content_type = "application/problem+json")
    )
)]
pub(crate) async fn get_type(
    State(api): State<Api>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, Problem> {
    let Ok(Path(aggregate_type)) = path else {
        return Err(Problem::bad_request("the path is not /types/{type}"));
    };
    check_aggregate_type(&aggregate_type).map_err(|e| Problem::bad_request(e.to_string()))?;
    let machine = machine(&api, &aggregate_type).await?;
    serde_json::to_value(machine.config())
        .map(Json)
        .map_err(|_| config_unavailable())
}

async fn machine(
    api: &Api,
    aggregate_type: &str,
) -> Result<std::sync::Arc<handler_core::state_machine::StateMachine>, Problem> {
    match api.backend.config(aggregate_type).await {
        Ok(machine) => Ok(machine),
        Err(error) if error.is_permanent() => {
            Err(Problem::not_found("no config of this aggregate type"))
        }
        Err(_) => Err(config_unavailable()),
    }
}

fn config_unavailable() -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "config_unavailable",
        "Config source unavailable",
        "the config source did not answer",
    )
}
