//! The HTTP Lambda's body on moto: the router `http_lambda::lambda_router`
//! builds from the function's environment (the same call as
//! `cmd/http-api`'s init), fed Function URL events through `lambda_http`
//! ([`url`]). Without `Prefer: wait` a command lands on the SQS queue (its
//! body, and on a FIFO queue its group and deduplication id, read back from
//! SQS); with it the event is in DynamoDB; a `GET` reads what was written
//! before.

pub(crate) mod url;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName as A};
use axum::Router;
use handler_core::{AggregateKey, all_events};
use serde_json::{Value, json};
use testkit::aws::{AwsStack, PREFIX};

use url::{call, get, post_json};

/// The router the function serves on `stack`, sending to `queue`, its
/// clients from `loader` (moto, or a proxy in front of it).
pub(crate) async fn http_router(
    stack: &AwsStack,
    queue: &str,
    loader: aws_config::ConfigLoader,
) -> Router {
    let vars = [
        ("DYNAMO_TABLE_NAME", stack.table.clone()),
        ("S3_BUCKET_NAME", stack.bucket.clone()),
        ("S3_CONFIG_PREFIX", PREFIX.to_owned()),
        ("COMMAND_QUEUE_URL", queue.to_owned()),
    ];
    let env = http_lambda::HttpEnv::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .expect("the function's environment");
    http_lambda::lambda_router(&env, loader)
        .await
        .expect("the table passes the init's check")
}

/// Every message on `queue` now (at most 10), with its system attributes.
pub(crate) async fn received(stack: &AwsStack, queue: &str) -> Vec<Message> {
    stack
        .sqs()
        .receive_message()
        .queue_url(queue)
        .max_number_of_messages(10)
        .message_system_attribute_names(A::All)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages()
        .to_vec()
}

fn attribute(message: &Message, name: A) -> Option<&str> {
    message
        .attributes()
        .and_then(|a| a.get(&name))
        .map(String::as_str)
}

fn create(id: &str) -> Value {
    json!({"aggregateType": "order", "aggregateId": id, "command": "CreateOrder",
           "payload": {"itemId": "tea", "quantity": 2}})
}

#[tokio::test]
async fn a_command_without_prefer_wait_is_put_on_the_queue_as_sent() {
    let stack = AwsStack::new().await;
    let (queue, _) = stack.queues(30, false).await;
    let router = http_router(
        &stack,
        &queue,
        testkit::moto::loader(testkit::moto::moto().endpoint()),
    )
    .await;

    let mut sent = create("o-queued");
    sent["commandId"] = json!("http-c-1");
    let answer = call(&router, post_json("/commands", &[], &sent)).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(
        answer.json(),
        json!({"commandId": "http-c-1", "status": "accepted"})
    );

    let messages = received(&stack, &queue).await;
    let [message] = messages.as_slice() else {
        panic!("one message on the queue: {messages:?}");
    };
    let body: Value = serde_json::from_str(message.body().expect("a body")).expect("JSON body");
    assert_eq!(body, sent, "the body is the command as sent");
    assert_eq!(
        attribute(message, A::MessageGroupId),
        None,
        "standard queue"
    );
    let key = AggregateKey::new("order", "o-queued");
    assert!(
        all_events(&stack.store(), &key).await.unwrap().is_empty(),
        "queued, not handled"
    );
}

#[tokio::test]
async fn on_a_fifo_queue_the_command_is_in_its_aggregates_group() {
    let stack = AwsStack::new().await;
    let (queue, _) = stack.queues(30, true).await;
    let router = http_router(
        &stack,
        &queue,
        testkit::moto::loader(testkit::moto::moto().endpoint()),
    )
    .await;

    // The per-aggregate route fills the body's type and id from the path,
    // and the Idempotency-Key header is the command id.
    let body = json!({"command": "CreateOrder", "payload": {"itemId": "tea", "quantity": 1}});
    let answer = call(
        &router,
        post_json(
            "/aggregates/order/o-fifo/commands",
            &[("idempotency-key", "key 1")],
            &body,
        ),
    )
    .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.json()["commandId"], "key 1");

    let messages = received(&stack, &queue).await;
    let [message] = messages.as_slice() else {
        panic!("one message on the queue: {messages:?}");
    };
    let queued: Value = serde_json::from_str(message.body().expect("a body")).expect("JSON");
    assert_eq!(
        queued,
        json!({"commandId": "key 1", "aggregateType": "order", "aggregateId": "o-fifo",
               "command": "CreateOrder", "payload": {"itemId": "tea", "quantity": 1}})
    );
    assert_eq!(attribute(message, A::MessageGroupId), Some("order#o-fifo"));
    assert_eq!(
        attribute(message, A::MessageDeduplicationId),
        Some(handler_core::state_machine::ids::deduplication_id("key 1").as_str()),
        "the deduplication id is derived from the command id, as for reactions"
    );

    // Sent again (a client retrying): FIFO deduplication keeps one copy.
    let again = call(
        &router,
        post_json(
            "/aggregates/order/o-fifo/commands",
            &[("idempotency-key", "key 1")],
            &body,
        ),
    )
    .await;
    assert_eq!(again.status, 202);
    let (visible, in_flight) = stack.depth(&queue).await;
    assert_eq!(
        (visible, in_flight),
        (0, 1),
        "the retry was deduplicated: only the first copy, in flight"
    );
}

#[tokio::test]
async fn prefer_wait_applies_on_the_table_and_get_reads_it_back() {
    let stack = AwsStack::new().await;
    let (queue, _) = stack.queues(30, false).await;
    let router = http_router(
        &stack,
        &queue,
        testkit::moto::loader(testkit::moto::moto().endpoint()),
    )
    .await;

    // An aggregate written before, by the command Lambda's handler.
    let before = stack
        .handler()
        .handle(handler_core::Batch::standard(vec![
            handler_core::InboundMessage::new("m-1", create("o-read").to_string()),
        ]))
        .await;
    assert!(before.failed_message_ids().is_empty(), "{before:?}");
    let answer = call(&router, get("/aggregates/order/o-read", &[])).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("etag"), Some("\"1\""));
    let view = answer.json();
    assert_eq!(
        (&view["state"], &view["version"], &view["data"]),
        (
            &json!("Created"),
            &json!(1),
            &json!({"itemId": "tea", "quantity": 2})
        )
    );
    let unchanged = call(
        &router,
        get("/aggregates/order/o-read", &[("if-none-match", "\"1\"")]),
    )
    .await;
    assert_eq!(unchanged.status, 304);

    // Prefer: wait runs the command in the request: the event is in the table.
    let answer = call(
        &router,
        post_json(
            "/aggregates/order/o-read/commands",
            &[("prefer", "wait")],
            &json!({"command": "ReserveItem", "commandId": "http-wait-1"}),
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("preference-applied"), Some("wait"));
    let applied = answer.json();
    assert_eq!(
        (&applied["outcome"], &applied["version"], &applied["state"]),
        (&json!("applied"), &json!(2), &json!("Reserved"))
    );
    let key = AggregateKey::new("order", "o-read");
    let events = all_events(&stack.store(), &key).await.expect("the events");
    let stored: Vec<(&str, &str, u64)> = events
        .iter()
        .map(|e| (e.event_type.as_str(), e.command_id.as_str(), e.version))
        .collect();
    assert_eq!(
        stored,
        [
            ("OrderCreated", "m-1", 1),
            ("ItemReserved", "http-wait-1", 2)
        ]
    );
    assert_eq!(
        stack.depth(&queue).await,
        (0, 0),
        "waited for, so nothing queued"
    );

    // The same command again is a duplicate, nothing written; a refused one
    // answers its code.
    let duplicate = call(
        &router,
        post_json(
            "/aggregates/order/o-read/commands",
            &[("prefer", "wait")],
            &json!({"command": "ReserveItem", "commandId": "http-wait-1"}),
        ),
    )
    .await;
    assert_eq!(duplicate.json()["outcome"], "duplicate");
    let refused = call(
        &router,
        post_json(
            "/commands",
            &[("prefer", "wait")],
            &json!({"aggregateType": "order", "aggregateId": "o-read", "command": "CreateOrder",
                    "payload": {"itemId": "tea", "quantity": 1}}),
        ),
    )
    .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(refused.json()["code"], "invalid_transition");
    // An invocation out of time starts nothing: 503 `deadline`.
    let late = url::call_with(
        &router,
        post_json(
            "/aggregates/order/o-read/commands",
            &[("prefer", "wait")],
            &json!({"command": "ProcessPayment", "commandId": "http-late-1"}),
        ),
        lambda_http::Context::default(),
    )
    .await;
    assert_eq!(late.status, 503, "{}", late.body);
    assert_eq!(late.json()["code"], "deadline");
    assert_eq!(
        all_events(&stack.store(), &key).await.unwrap().len(),
        2,
        "nothing more written"
    );
}
