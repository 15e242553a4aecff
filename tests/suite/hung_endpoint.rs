//! AWS endpoints that accept the connection and never answer
//! ([`BlackHole`]): the Lambda's function body still answers before its
//! deadline, with every message accounted for, and a write whose answer did
//! not come before the deadline is reported failed, never applied.
//!
//! The bound these tests put on the answer (30 s for a 3 s deadline) is not
//! a measure of speed: it only tells a hang from an answer.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, ConfigLoader, Region};
use batch_handler::Handler;
use binary_env::{ClientTimeouts, load_sdk_config};
use command_lambda::{LambdaEnv, lambda_handler};
use config_dir::DirConfigSource;
use handler_core::{
    AppendError, Batch, Commit, EventStore, InboundMessage, MessageOutcome, Transient,
};
use lambda_runtime::{Context, LambdaEvent};
use lambda_sqs::{SqsBatchResponse, SqsEvent, handle_event, parse_event};
use sqs_dlq_sink::SqsDeadLetters;
use store_dynamodb::DynamoStore;
use store_sqlite::SqliteStore;
use testkit::black_hole::BlackHole;
use testkit::faulty::{Faulty, StoreFaults};
use testkit::fixtures;
use testkit::scenario::config_dir;

use crate::lambda::failed;

/// Far longer than any deadline here: reaching it means the call hung.
const HANG: Duration = Duration::from_secs(30);

/// The deadline the invocations get.
const DEADLINE: Duration = Duration::from_secs(3);

/// An SDK config loader aimed at `hole`, with dummy credentials.
fn loader(hole: &BlackHole) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(hole.endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
}

/// A Lambda context whose deadline is [`DEADLINE`] away.
fn context() -> Context {
    let mut context = Context::default();
    context.deadline = (SystemTime::now() + DEADLINE)
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_millis() as u64;
    context
}

fn mixed_event() -> SqsEvent {
    parse_event(&fixtures::read("sqs-event-mixed.json")).expect("fixture is an SQS event")
}

fn message_ids(event: &SqsEvent) -> BTreeSet<String> {
    event
        .records
        .iter()
        .map(|r| r.message_id.clone().expect("fixture ids"))
        .collect()
}

/// `handle_event`, failing the test if it has not answered after [`HANG`].
async fn invoke<S: EventStore + handler_core::FailureLog, C: handler_core::ConfigSource>(
    handler: &Handler<S, C>,
    event: SqsEvent,
) -> SqsBatchResponse {
    tokio::time::timeout(
        HANG,
        handle_event(handler, LambdaEvent::new(event, context())),
    )
    .await
    .unwrap_or_else(|_| panic!("no answer {HANG:?} after a {DEADLINE:?} deadline: it hangs"))
}

/// The function as its binary builds it (`command_lambda::lambda_handler`:
/// DynamoDB, S3 configs, the dead-letter queue), every endpoint a black
/// hole: the config fetch hangs, the dead-letter queue and the failure
/// records too. It answers, and every message comes back.
#[tokio::test]
async fn the_lambda_answers_before_its_deadline_when_aws_never_answers() {
    let hole = BlackHole::start();
    let dlq = format!("{}/123456789012/commands-dlq", hole.endpoint());
    let env = LambdaEnv::from_lookup(|name| match name {
        "DYNAMO_TABLE_NAME" => Some("events".to_owned()),
        "S3_BUCKET_NAME" => Some("configs".to_owned()),
        "REJECT_TO_DLQ_URL" => Some(dlq.clone()),
        _ => None,
    })
    .expect("a valid environment");
    let handler = lambda_handler(&env, loader(&hole))
        .await
        .expect("an unanswered table check does not fail the init");

    let event = mixed_event();
    let all = message_ids(&event);
    let started = std::time::Instant::now();
    let response = invoke(&handler, event).await;
    eprintln!(
        "deadline {DEADLINE:?}: answered after {:?}",
        started.elapsed()
    );
    assert_eq!(failed(&response), all, "every message comes back");
    assert!(hole.connections() > 0, "the calls went to the black hole");
}

/// What a stuck run looks like from the handler: the store loads (configs
/// from a directory), then DynamoDB and the dead-letter queue never answer.
/// The runs already going are cut at the deadline and reported failed
/// (`deadline`), the malformed message stays failed (the DLQ never took it),
/// and the answer comes.
#[tokio::test]
async fn runs_in_progress_are_cut_at_the_deadline_and_every_message_accounted_for() {
    let hole = BlackHole::start();
    let sdk = load_sdk_config(loader(&hole), &ClientTimeouts::default()).await;
    let dlq = format!("{}/123456789012/commands-dlq", hole.endpoint());
    let handler = Handler::new(
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            "events",
            std::sync::Arc::new(handler_core::SystemClock),
        ),
        DirConfigSource::new(config_dir()),
    )
    .with_rejection_sink(Arc::new(SqsDeadLetters::new(
        aws_sdk_sqs::Client::new(&sdk),
        dlq,
        std::sync::Arc::new(handler_core::SystemClock),
    )));

    let event = mixed_event();
    let all = message_ids(&event);
    let mut batch = lambda_sqs::to_batch(&event);
    batch.deadline = lambda_sqs::deadline(&context());
    let report = tokio::time::timeout(HANG, handler.handle(batch))
        .await
        .expect("the handler answers instead of hanging");
    let reported: BTreeSet<String> = report.failed_message_ids().into_iter().collect();
    assert_eq!(reported, all, "every message comes back");
    // Every parsed message's run started (four aggregates, concurrency 100)
    // and was cut while loading; the unparsable one was rejected at once and
    // never taken by the dead-letter queue.
    for outcome in &report.outcomes {
        if outcome.message_id == "msg-bad-json" {
            assert_eq!(
                outcome.result.as_ref().unwrap_err().code(),
                "malformed_message"
            );
        } else {
            assert!(is(outcome, &Transient::DeadlineInterrupted), "{outcome:#?}");
        }
        assert!(!outcome.dead_lettered);
    }
}

fn is(outcome: &MessageOutcome, transient: &Transient) -> bool {
    matches!(&outcome.result, Err(handler_core::Failure::Transient(t)) if t == transient)
}

/// A store whose appends land and whose answer never comes back.
struct LandsThenHangs(Arc<SqliteStore>);

#[async_trait]
impl StoreFaults for LandsThenHangs {
    type Inner = Arc<SqliteStore>;

    fn inner(&self) -> &Arc<SqliteStore> {
        &self.0
    }

    async fn append(&self, commit: &Commit) -> Result<(), AppendError> {
        self.0.append(commit).await?;
        std::future::pending().await
    }
}

/// A run whose write landed but whose answer did not arrive before the
/// deadline is reported failed (`deadline`), never applied; when it comes
/// back it is a duplicate, and nothing is written twice.
#[tokio::test]
async fn a_write_whose_answer_never_came_is_reported_failed_and_comes_back_a_duplicate() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = Arc::new(SqliteStore::open(dir.path().join("events.sqlite3")).expect("store"));
    let message = InboundMessage::new(
        "m-1",
        r#"{"commandId":"c-1","aggregateType":"order","aggregateId":"o-1","command":"CreateOrder","payload":{"itemId":"x","quantity":1}}"#,
    );

    let hung = Handler::new(
        Faulty(LandsThenHangs(store.clone())),
        DirConfigSource::new(config_dir()),
    );
    let mut batch = Batch::standard(vec![message.clone()]);
    batch.deadline = lambda_sqs::deadline(&context());
    let report = tokio::time::timeout(HANG, hung.handle(batch))
        .await
        .expect("the handler answers instead of hanging");
    assert!(
        is(&report.outcomes[0], &Transient::DeadlineInterrupted),
        "{report:#?}"
    );
    assert_eq!(report.failed_message_ids(), vec!["m-1".to_owned()]);

    let key = handler_core::AggregateKey::new("order", "o-1");
    let landed = handler_core::all_events(&store, &key).await.unwrap();
    assert_eq!(landed.len(), 1, "the write did land");

    let again = Handler::new(store.clone(), DirConfigSource::new(config_dir()))
        .handle(Batch::standard(vec![message]))
        .await;
    let applied = again.outcomes[0].result.as_ref().expect("applied");
    assert!(applied.duplicate, "{again:#?}");
    assert_eq!(
        handler_core::all_events(&store, &key).await.unwrap().len(),
        1
    );
}
