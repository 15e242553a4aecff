//! The HTTP Lambda's resources on moto: its function and environment, no
//! event source (it is called through its URL), no Function URL here
//! (`HttpApiUrlEnabled=false`: moto's CloudFormation has none), and its
//! role's grants, exactly, on this stack's resources.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use serde_json::json;

use super::super::grants::granted;
use super::allowed::Allowed;
use super::processor::Outputs;
use super::resources::queue_arn;
use super::{DEFAULT_ENV, Expect, function};

pub(super) async fn check_http_api(
    sdk: &SdkConfig,
    out: Outputs<'_>,
    outputs: &BTreeMap<String, String>,
    table_arn: &str,
    expect: &Expect,
) {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let name = out("HttpApiFunctionName");
    let (function, env) = function(&lambda, &name, expect).await;
    assert_eq!(
        function.function_arn(),
        Some(out("HttpApiFunctionArn").as_str())
    );
    let mut wanted: BTreeMap<String, String> = DEFAULT_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    wanted.insert("DYNAMO_TABLE_NAME".into(), out("TableName"));
    wanted.insert("S3_BUCKET_NAME".into(), out("ConfigBucketName"));
    wanted.insert("S3_CONFIG_PREFIX".into(), expect.prefix.into());
    wanted.insert("COMMAND_QUEUE_URL".into(), out("QueueUrl"));
    assert_eq!(env, wanted, "the HTTP Lambda's environment");

    let mappings = lambda
        .list_event_source_mappings()
        .function_name(&name)
        .send()
        .await
        .expect("ListEventSourceMappings");
    assert!(
        mappings.event_source_mappings().is_empty(),
        "the HTTP Lambda reads no queue or stream: {mappings:?}"
    );
    assert!(
        !outputs.contains_key("HttpApiUrl"),
        "HttpApiUrlEnabled=false: no URL, so no output"
    );

    let command_queue_arn = queue_arn(sdk, &out("QueueUrl")).await;
    let account = command_queue_arn
        .split(':')
        .nth(4)
        .expect("account in ARN")
        .to_owned();
    let mut allowed = Allowed::default();
    allowed.own_logs(&account, &name);
    allowed.configs(&out("ConfigBucketName"), expect.prefix);
    // Commands sent without Prefer: wait.
    allowed.allow(&["sqs:SendMessage"], command_queue_arn, None);
    // The reads: a head, an event page, a command id (Prefer: wait), a
    // type's listing.
    for resource in [
        table_arn.to_owned(),
        format!("{table_arn}/index/{}", store_dynamodb::items::COMMAND_INDEX),
        format!("{table_arn}/index/{}", store_dynamodb::items::LISTING_INDEX),
    ] {
        allowed.allow(&["dynamodb:Query"], resource, None);
    }
    // A correlation's events (GET /traces/ID).
    allowed.allow(&["dynamodb:Scan"], table_arn.to_owned(), None);
    // Prefer: wait: the handler's appends and failure records, and the
    // init's table check.
    allowed.allow(&["dynamodb:PutItem"], table_arn.to_owned(), None);
    allowed.allow(
        &["dynamodb:UpdateItem"],
        table_arn.to_owned(),
        Some(json!({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#failure#*"]}})),
    );
    allowed.allow(&["dynamodb:DescribeTable"], table_arn.to_owned(), None);
    let role_arn = function.role().expect("the HTTP Lambda's role");
    assert_eq!(
        granted(sdk, role_arn).await,
        allowed.0,
        "the HTTP Lambda's role grants exactly what it uses, on this stack's resources"
    );
}
