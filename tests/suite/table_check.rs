//! The table check at init (`command_lambda::lambda_handler`, docs/cost.md
//! *Migration*): a table in table layout 2 passes, a table without the
//! `by-command` index or no table at all fails the init with an error naming
//! them, and an endpoint that never answers delays the init by the client
//! timeouts only.
//!
//! The bound on the black-holed init (30 s for 1 s of operation timeout) is
//! not a measure of speed: it only tells a hang from an answer.

use std::time::Duration;

use command_lambda::{LambdaEnv, lambda_handler};
use store_dynamodb::TableCheckError;
use testkit::aws::{AwsStack, older_layout_table};
use testkit::black_hole::BlackHole;
use testkit::moto::{loader, moto, unique_name};

/// Far longer than the timeouts of the black-holed init: reaching it means
/// the init hung.
const HANG: Duration = Duration::from_secs(30);

fn env(table: &str, extra: &[(&'static str, &'static str)]) -> LambdaEnv {
    LambdaEnv::from_lookup(|name| match name {
        "DYNAMO_TABLE_NAME" => Some(table.to_owned()),
        "S3_BUCKET_NAME" => Some("configs".to_owned()),
        _ => extra
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned()),
    })
    .expect("a valid environment")
}

async fn old_layout_table() -> String {
    let dynamo = aws_sdk_dynamodb::Client::new(&moto().sdk_config().await);
    older_layout_table(&dynamo).await
}

#[tokio::test]
async fn a_table_made_by_create_table_passes_the_check() {
    let stack = AwsStack::new().await;
    stack.store().check_table().await.expect("table layout 2");
    assert_eq!(stack.dynamo_requests.sent(), ["DescribeTable"]);
    lambda_handler(&env(&stack.table, &[]), loader(moto().endpoint()))
        .await
        .expect("the init succeeds");
}

#[tokio::test]
async fn a_table_without_the_command_index_fails_the_init() {
    let table = old_layout_table().await;
    let err = lambda_handler(&env(&table, &[]), loader(moto().endpoint()))
        .await
        .expect_err("the init is refused");
    assert_eq!(
        err,
        TableCheckError::WrongLayout {
            table: table.clone(),
            index: dynamodb_layout::COMMAND_INDEX,
        }
    );
    assert!(err.is_permanent());
    let text = err.to_string();
    for part in [table.as_str(), "by-command", "docs/cost.md", "Migration"] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[tokio::test]
async fn a_missing_table_fails_the_init() {
    let table = unique_name("absent");
    let err = lambda_handler(&env(&table, &[]), loader(moto().endpoint()))
        .await
        .expect_err("the init is refused");
    assert_eq!(err, TableCheckError::NoTable { table });
}

#[tokio::test]
async fn without_warming_the_init_makes_no_call() {
    let table = old_layout_table().await;
    let hole = BlackHole::start();
    lambda_handler(
        &env(&table, &[("WARM_ON_INIT", "false")]),
        loader(&hole.endpoint()),
    )
    .await
    .expect("nothing is checked");
    assert_eq!(hole.connections(), 0, "no connection at init");
}

/// DynamoDB accepts the connection and never answers: the check gives up
/// after the client's timeouts, logs, and the init goes on.
#[tokio::test]
async fn an_unanswered_check_does_not_hold_the_init() {
    let hole = BlackHole::start();
    let env = env(
        "events",
        &[
            ("AWS_CONNECT_TIMEOUT_MS", "500"),
            ("AWS_ATTEMPT_TIMEOUT_MS", "500"),
            ("AWS_OPERATION_TIMEOUT_MS", "1000"),
        ],
    );
    tokio::time::timeout(HANG, lambda_handler(&env, loader(&hole.endpoint())))
        .await
        .unwrap_or_else(|_| panic!("the init has not returned after {HANG:?}: it hangs"))
        .expect("an unanswered check does not fail the init");
    assert!(hole.connections() > 0, "the check went to the black hole");
}
