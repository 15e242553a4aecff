//! `GET /openapi.json` against the router it documents: every documented
//! operation is a route (the router and the document come from one
//! registration, so every route is documented), and every example in the
//! document validates against its schema.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use batch_handler::Handler;
use http_api::HttpApi;
use serde_json::{Value, json};
use tower::ServiceExt;

fn document() -> Value {
    serde_json::to_value(http_api::openapi()).unwrap()
}

/// A validator of `schema` with the document's components beside it, so
/// that `#/components/schemas/...` resolves.
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({"$schema": "https://json-schema.org/draft/2020-12/schema"});
    root["allOf"] = json!([schema]);
    root["components"] = doc["components"].clone();
    jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{schema}: {e}"))
}

fn check(doc: &Value, place: &str, schema: &Value, example: &Value, checked: &mut usize) {
    let validator = validator(doc, schema);
    let errors: Vec<String> = validator
        .iter_errors(example)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{place}: example {example} does not validate: {errors:?}"
    );
    *checked += 1;
}

#[test]
fn every_example_validates_against_its_schema() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut checked = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(example) = schema.get("example") {
            let reference = json!({"$ref": format!("#/components/schemas/{name}")});
            check(&doc, name, &reference, example, &mut checked);
        }
    }
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                for (media, body) in content {
                    let place = format!("{method} {path} {status} {media}");
                    let example = body.get("example").or_else(|| {
                        let reference = body["schema"]["$ref"].as_str()?;
                        let name = reference.rsplit('/').next()?;
                        doc["components"]["schemas"][name].get("example")
                    });
                    if status.starts_with('2') && media == "application/json" {
                        assert!(
                            example.is_some(),
                            "{place}: a success answer has an example"
                        );
                    }
                    if let Some(example) = example {
                        check(&doc, &place, &body["schema"], example, &mut checked);
                    }
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} examples checked");
    // The check has teeth: a wrong answer does not validate.
    let answer = json!({"$ref": "#/components/schemas/CommandAnswer"});
    assert!(!validator(&doc, &answer).is_valid(&json!({"commandId": 1})));
}

#[tokio::test]
async fn every_documented_operation_is_a_route() {
    let store = Arc::new(store_sqlite::SqliteStore::in_memory().unwrap());
    let configs = Arc::new(config_dir::DirConfigSource::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../config"
    )));
    let router = HttpApi::new(Arc::new(Handler::new(store, configs))).router();
    let doc = document();
    let mut operations = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let concrete = path.replace("{type}", "order").replace("{id}", "o-1");
        for method in methods.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let request = Request::builder()
                .method(method.clone())
                .uri(&concrete)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            let routed = status != StatusCode::NOT_FOUND
                || response.headers()["content-type"] == "application/problem+json";
            assert!(routed, "{method} {path}: {status}");
            operations += 1;
        }
    }
    assert_eq!(
        operations, 11,
        "the routes of docs/reference.md §8 (with the console's three) and the per-aggregate POST"
    );
}
