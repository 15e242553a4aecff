//! Function URL requests as Lambda delivers them, and the router called as
//! `lambda_http::run` calls it: the event's JSON deserialized through
//! `lambda_http`'s own request type, handed to its `Adapter` with a
//! `Context`, and the answer serialized back to the JSON the runtime
//! returns to the Function URL.

use std::collections::BTreeMap;

use axum::Router;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::{Value, json};

/// A Function URL event (payload format 2.0, an `AWS_IAM` caller) for
/// `method` on `path_and_query`, with `headers` added to the fixture's and
/// `body` (text) when given.
pub(crate) fn url_event(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> LambdaRequest {
    let mut event: Value =
        serde_json::from_str(&testkit::fixtures::read("function-url/request.json"))
            .expect("the Function URL fixture is JSON");
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    let all = event["headers"].as_object_mut().expect("headers");
    for (name, value) in headers {
        all.insert(name.to_ascii_lowercase(), json!(value));
    }
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    serde_json::from_value(event).expect("a Function URL event lambda_http takes")
}

/// What the function answered, as the Function URL reads it.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    /// `statusCode`.
    pub(crate) status: u16,
    /// `headers`, names in lowercase.
    pub(crate) headers: BTreeMap<String, String>,
    /// `body` (text: every answer of the API is JSON or empty).
    pub(crate) body: String,
}

impl Answer {
    /// The body, parsed.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("a JSON body ({e}): {:?}", self.body))
    }

    /// A header's value.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Runs one event through the router as the Lambda runtime would, with a
/// `Context` whose deadline is a minute away (as a function's timeout gives).
pub(crate) async fn call(router: &Router, request: LambdaRequest) -> Answer {
    let in_a_minute = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis()
        + 60_000;
    let mut context = Context::default();
    context.deadline = u64::try_from(in_a_minute).expect("fits");
    call_with(router, request, context).await
}

/// Runs one event through the router with `context`.
pub(crate) async fn call_with(router: &Router, request: LambdaRequest, context: Context) -> Answer {
    let adapter = Adapter::from(router.clone());
    let response = adapter
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap_or_else(|e: std::convert::Infallible| match e {});
    let value = serde_json::to_value(&response).expect("the answer serializes");
    assert_eq!(
        value["isBase64Encoded"], false,
        "the API answers text: {value}"
    );
    let headers = value["headers"]
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
        .collect();
    Answer {
        status: value["statusCode"]
            .as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .expect("a statusCode"),
        headers,
        body: value["body"].as_str().unwrap_or_default().to_owned(),
    }
}

/// A JSON request: `Content-Type: application/json` and the other headers.
pub(crate) fn post_json(path: &str, headers: &[(&str, &str)], body: &Value) -> LambdaRequest {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    url_event("POST", path, &all, Some(&body.to_string()))
}

/// A `GET` with these headers.
pub(crate) fn get(path: &str, headers: &[(&str, &str)]) -> LambdaRequest {
    url_event("GET", path, headers, None)
}
