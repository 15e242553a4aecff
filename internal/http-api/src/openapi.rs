//! The OpenAPI 3.1 document: the info and shared schemas here, each route's
//! operation from its handler's annotation, collected by the same
//! registration the router is built from ([`crate::openapi()`]).

use std::sync::OnceLock;

use axum::Json;
use utoipa::OpenApi;

use crate::problem::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "command-handler HTTP API",
        description = "Commands in, state out: the event-sourced command handler's front door (docs/reference.md §10).",
        license(name = "Apache-2.0")
    ),
    components(schemas(Problem)),
    tags(
        (name = "commands", description = "Commands in"),
        (name = "aggregates", description = "State out"),
        (name = "traces", description = "One correlation's events"),
        (name = "console", description = "The configs, for the operator console"),
        (name = "health", description = "For load balancers"),
        (name = "meta", description = "This document")
    )
)]
pub(crate) struct ApiDoc;

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of these routes", body = Object,
        example = json!({"openapi": "3.1.0", "info": {"title": "command-handler HTTP API", "version": "0.1.0"}, "paths": {}})))
)]
pub(crate) async fn get_openapi() -> Json<utoipa::openapi::OpenApi> {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    Json(DOCUMENT.get_or_init(crate::api::openapi).clone())
}
