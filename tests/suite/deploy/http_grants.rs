//! The HTTP Lambda's role (`HttpApiRole`) against what its body really
//! sends: the router built as the binary builds it, its clients pointed at
//! a recording proxy in front of moto, every route called through
//! `lambda_http` with Function URL events; each request read off the wire
//! (operation, table and index, queue, bucket and key) and mapped to the
//! IAM action and resource that authorise it. The set is compared with the
//! template's statements, resource by resource.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use testkit::aws::{AwsStack, PREFIX};
use testkit::fault_proxy::{Exchange, FaultPlan, FaultProxy};
use testkit::moto::{loader, moto};

use super::{strings, template};
use crate::http_lambda::http_router;
use crate::http_lambda::url::{call, get, post_json};

/// (IAM action, resource) with the resource named by what it is:
/// `table`, `table/index/NAME`, `command-queue`, `config-bucket/KEY`.
type Grant = (String, String);

/// Every route of the API, as a caller would use them: a command queued,
/// two applied and one refused in the request (`Prefer: wait`), then every
/// read. Returns nothing: the proxy has seen it all.
async fn every_route(router: &axum::Router) {
    let order = |command: &str, payload: Value| json!({"command": command, "payload": payload});
    let wait = [("prefer", "wait")];
    let calls = [
        (
            post_json(
                "/commands",
                &[],
                &json!({"aggregateType": "order", "aggregateId": "g-queued",
                        "command": "CreateOrder", "payload": {"itemId": "tea", "quantity": 1}}),
            ),
            202,
        ),
        (
            post_json(
                "/aggregates/order/g-1/commands",
                &wait,
                &order("CreateOrder", json!({"itemId": "tea", "quantity": 1})),
            ),
            200,
        ),
        (
            post_json(
                "/aggregates/order/g-1/commands",
                &[("prefer", "wait"), ("idempotency-key", "g-reserve")],
                &order("ReserveItem", json!({})),
            ),
            200,
        ),
        // Refused: its failure record is the one UpdateItem.
        (
            post_json(
                "/aggregates/order/g-1/commands",
                &wait,
                &order("CreateOrder", json!({"itemId": "tea", "quantity": 1})),
            ),
            409,
        ),
        (get("/aggregates/order/g-1", &[]), 200),
        (
            get("/aggregates/order/g-1/events?after=0&limit=10", &[]),
            200,
        ),
        (get("/aggregates/order?limit=10", &[]), 200),
        (get("/traces/g-reserve", &[]), 200),
        (get("/healthz", &[]), 200),
        (get("/openapi.json", &[]), 200),
    ];
    for (request, status) in calls {
        let answer = call(router, request).await;
        assert_eq!(answer.status, status, "{}", answer.body);
    }
}

#[tokio::test]
async fn the_http_api_role_grants_what_its_routes_send() {
    let stack = AwsStack::new().await;
    let (queue, _) = stack.queues(30, false).await;
    let proxy = FaultProxy::start(moto().endpoint(), FaultPlan::default()).await;
    proxy.record_exchanges();
    // The init (its table check) and every route, through the proxy.
    let router = http_router(&stack, &queue, loader(proxy.endpoint())).await;
    every_route(&router).await;
    let exchanges = proxy.take_exchanges();

    let mut sent = BTreeSet::new();
    for exchange in &exchanges {
        sent.extend(authorised_by(exchange, &stack, &queue));
    }
    eprintln!(
        "{} requests over every route: {:?}",
        exchanges.len(),
        exchanges
            .iter()
            .map(|e| e.operation.as_str())
            .collect::<Vec<_>>()
    );
    let template_grants = granted_by_template();
    assert_eq!(
        sent, template_grants,
        "the HTTP Lambda's role grants exactly what its routes send, resource by resource"
    );
    // Every route was needed for that: the listing's index, the trace's
    // Scan, the refusal's failure record, the queue.
    for needed in [
        ("dynamodb:Query", "table/index/aggregates-by-type"),
        ("dynamodb:Scan", "table"),
        ("dynamodb:UpdateItem", "table"),
        ("sqs:SendMessage", "command-queue"),
        ("dynamodb:DescribeTable", "table"),
    ] {
        assert!(
            sent.contains(&(needed.0.to_owned(), needed.1.to_owned())),
            "{needed:?} among {sent:?}"
        );
    }
}

/// What authorises one request, as (action, resource). `UpdateItem` is
/// checked against the role's condition: failure records only.
fn authorised_by(exchange: &Exchange, stack: &AwsStack, queue: &str) -> Vec<Grant> {
    let body = || -> Value {
        serde_json::from_slice(&exchange.request)
            .unwrap_or_else(|e| panic!("{} body is JSON: {e}", exchange.operation))
    };
    let table = |request: &Value| -> String {
        assert_eq!(
            request["TableName"], stack.table,
            "{}: the stack's table",
            exchange.operation
        );
        match request["IndexName"].as_str() {
            Some(index) => format!("table/index/{index}"),
            None => "table".to_owned(),
        }
    };
    let grant = |action: &str, resource: String| (action.to_owned(), resource);
    match exchange.operation.as_str() {
        "DynamoDB_20120810.DescribeTable" => vec![grant("dynamodb:DescribeTable", table(&body()))],
        "DynamoDB_20120810.Query" => vec![grant("dynamodb:Query", table(&body()))],
        "DynamoDB_20120810.Scan" => vec![grant("dynamodb:Scan", table(&body()))],
        "DynamoDB_20120810.PutItem" => vec![grant("dynamodb:PutItem", table(&body()))],
        "DynamoDB_20120810.UpdateItem" => {
            let request = body();
            let pk = request["Key"]["pk"]["S"].as_str().unwrap_or_default();
            assert!(
                pk.starts_with("#failure#"),
                "UpdateItem on {pk}: the role allows failure records only"
            );
            vec![grant("dynamodb:UpdateItem", table(&request))]
        }
        // A commit of several events: each Put is authorised as PutItem.
        "DynamoDB_20120810.TransactWriteItems" => body()["TransactItems"]
            .as_array()
            .expect("TransactItems")
            .iter()
            .map(|item| {
                let put = item
                    .get("Put")
                    .unwrap_or_else(|| panic!("the store's transactions hold Puts only: {item}"));
                grant("dynamodb:PutItem", table(put))
            })
            .collect(),
        "AmazonSQS.SendMessage" => {
            assert_eq!(body()["QueueUrl"], queue, "the command queue");
            vec![grant("sqs:SendMessage", "command-queue".to_owned())]
        }
        "S3 GET" => {
            let path = exchange.path.split('?').next().unwrap_or_default();
            let key = path
                .strip_prefix(&format!("/{}/", stack.bucket))
                .unwrap_or_else(|| panic!("GET {path}: the config bucket"));
            assert!(
                key.starts_with(PREFIX),
                "GET {key}: below the config prefix"
            );
            vec![grant("s3:GetObject", format!("config-bucket/{PREFIX}*"))]
        }
        other => panic!(
            "the HTTP Lambda sends {other} ({}): grant it in template.json and map it here",
            exchange.path
        ),
    }
}

/// The `HttpApiRole` statements of the template as (action, resource), the
/// resources resolved to what they name; its log and `ListBucket` grants
/// aside (they authorise no request of the function's: the log lines go
/// through Lambda, and `ListBucket` makes a missing config 404, not 403).
fn granted_by_template() -> BTreeSet<Grant> {
    let t = template();
    let statements =
        t["Resources"]["HttpApiRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("HttpApiRole's statements")
            .clone();
    let sids: BTreeSet<&str> = statements
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(
        sids,
        BTreeSet::from([
            "WriteOwnLogs",
            "EnqueueCommands",
            "ReadEvents",
            "FollowCorrelations",
            "AppendEvents",
            "FailureRecordsOnly",
            "TableCheckAtInit",
            "ReadConfigs",
            "MissingConfigIsNotFoundNotDenied",
        ]),
        "nothing more"
    );
    let resource = |r: &Value| -> String {
        match r {
            r if *r == json!({"Fn::GetAtt": ["EventTable", "Arn"]}) => "table".to_owned(),
            r if *r == json!({"Fn::GetAtt": ["CommandQueue", "Arn"]}) => "command-queue".to_owned(),
            r if *r == json!({"Fn::Sub": "${ConfigBucket.Arn}/${ConfigPrefix}*"}) => {
                format!("config-bucket/{PREFIX}*")
            }
            other => match other["Fn::Sub"]
                .as_str()
                .and_then(|s| s.strip_prefix("${EventTable.Arn}/index/"))
            {
                Some(index) => format!("table/index/{index}"),
                None => panic!("a resource this test cannot name: {other}"),
            },
        }
    };
    let mut out = BTreeSet::new();
    for s in &statements {
        if matches!(
            s["Sid"].as_str(),
            Some("WriteOwnLogs" | "MissingConfigIsNotFoundNotDenied")
        ) {
            continue;
        }
        let resources = match &s["Resource"] {
            Value::Array(all) => all.clone(),
            one => vec![one.clone()],
        };
        for action in strings(&s["Action"]) {
            for r in &resources {
                out.insert((action.clone(), resource(r)));
            }
        }
    }
    out
}
