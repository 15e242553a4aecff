//! The event processor's resources on moto: its function and environment,
//! its stream mapping (created disabled: moto would read the stream
//! itself), its on-failure queue, and its role's grants, exactly.

use std::collections::{BTreeMap, BTreeSet};

use aws_config::SdkConfig;
use serde_json::{Value, json};

use super::super::grants::{Grant, granted};
use super::Expect;
use super::resources::queue_arn;

/// What the stack's outputs say, by name.
pub(super) type Outputs<'a> = &'a dyn Fn(&str) -> String;

pub(super) async fn check_processor(
    sdk: &SdkConfig,
    out: Outputs<'_>,
    table_arn: &str,
    expect: &Expect,
) {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let function = lambda
        .get_function_configuration()
        .function_name(out("ProcessorFunctionName"))
        .send()
        .await
        .expect("GetFunctionConfiguration");
    assert_eq!(function.handler(), Some("bootstrap"));
    assert_eq!(function.timeout(), Some(expect.function_timeout));
    let env: BTreeMap<String, String> = function
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let wanted: BTreeMap<String, String> = [
        ("DYNAMO_TABLE_NAME", out("TableName")),
        ("S3_BUCKET_NAME", out("ConfigBucketName")),
        ("S3_CONFIG_PREFIX", expect.prefix.to_owned()),
        ("CONFIG_CACHE_SECONDS", "60".to_owned()),
        ("COMMAND_QUEUE_URL", out("QueueUrl")),
        ("EVENT_BUS_NAME", out("EventBusName")),
        ("RUST_LOG", "info".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(env, wanted, "the processor's environment");

    let mappings = lambda
        .list_event_source_mappings()
        .function_name(out("ProcessorFunctionName"))
        .send()
        .await
        .expect("ListEventSourceMappings");
    let [mapping] = mappings.event_source_mappings() else {
        panic!("one stream mapping, got {mappings:?}");
    };
    let stream_arn = mapping.event_source_arn().expect("the stream's ARN");
    assert!(
        stream_arn.starts_with(&format!("{table_arn}/stream/")),
        "{stream_arn} is the table's stream"
    );
    assert_eq!(
        mapping.function_response_types(),
        &[aws_sdk_lambda::types::FunctionResponseType::ReportBatchItemFailures]
    );
    assert_eq!(
        mapping.state(),
        Some("Disabled"),
        "EventSourceEnabled=false"
    );

    let failures_arn = queue_arn(sdk, &out("ProcessorFailureQueueUrl")).await;
    let account = failures_arn.split(':').nth(4).expect("account in ARN");
    let command_queue_arn = queue_arn(sdk, &out("QueueUrl")).await;
    let bucket = out("ConfigBucketName");
    let mut allowed = BTreeSet::new();
    let mut allow = |actions: &[&str], resource: String, condition: Option<Value>| {
        for a in actions {
            allowed.insert(Grant {
                action: (*a).to_owned(),
                resource: resource.clone(),
                condition: condition.as_ref().map(Value::to_string),
            });
        }
    };
    allow(
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        format!(
            "arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/{}:*",
            out("ProcessorFunctionName")
        ),
        None,
    );
    allow(
        &[
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        ],
        format!("{table_arn}/stream/*"),
        None,
    );
    allow(
        &["events:PutEvents"],
        format!(
            "arn:aws:events:us-east-1:{account}:event-bus/{}",
            out("EventBusName")
        ),
        None,
    );
    allow(&["sqs:SendMessage"], command_queue_arn, None);
    allow(&["sqs:SendMessage"], failures_arn, None);
    allow(
        &["s3:GetObject"],
        format!("arn:aws:s3:::{bucket}/{}*", expect.prefix),
        None,
    );
    allow(
        &["s3:ListBucket"],
        format!("arn:aws:s3:::{bucket}"),
        Some(json!({"StringLike": {"s3:prefix": format!("{}*", expect.prefix)}})),
    );
    allow(
        &["dynamodb:UpdateItem"],
        table_arn.to_owned(),
        Some(json!({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#failure#*"]}})),
    );
    let role_arn = function.role().expect("the processor's role");
    assert_eq!(
        granted(sdk, role_arn).await,
        allowed,
        "the processor's role grants exactly what it uses, on this stack's resources"
    );
}
