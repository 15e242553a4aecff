//! The event processor's resources on moto: its function and environment,
//! its stream mapping (created disabled: moto would read the stream
//! itself), its on-failure queue, its role's grants, exactly, and the
//! scheduler's role for alarms (moto's CloudFormation skips the schedule
//! group itself: `template_alarms` checks it in the template).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use serde_json::{Value, json};

use super::super::grants::granted;
use super::allowed::Allowed;
use super::resources::queue_arn;
use super::{Expect, function, only_mapping};

/// What the stack's outputs say, by name.
pub(super) type Outputs<'a> = &'a dyn Fn(&str) -> String;

pub(super) async fn check_processor(
    sdk: &SdkConfig,
    out: Outputs<'_>,
    table_arn: &str,
    expect: &Expect,
) {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let (function, env) = function(&lambda, &out("ProcessorFunctionName"), expect).await;
    let command_queue_arn = queue_arn(sdk, &out("QueueUrl")).await;
    let dlq_arn = queue_arn(sdk, &out("DeadLetterQueueUrl")).await;
    let scheduler_role = out("SchedulerRoleArn");
    let group = out("ScheduleGroupName");
    let wanted: BTreeMap<String, String> = [
        ("DYNAMO_TABLE_NAME", out("TableName")),
        ("S3_BUCKET_NAME", out("ConfigBucketName")),
        ("S3_CONFIG_PREFIX", expect.prefix.to_owned()),
        ("CONFIG_CACHE_SECONDS", "60".to_owned()),
        ("COMMAND_QUEUE_URL", out("QueueUrl")),
        ("EVENT_BUS_NAME", out("EventBusName")),
        ("COMMAND_QUEUE_ARN", command_queue_arn.clone()),
        ("SCHEDULE_GROUP_NAME", group.clone()),
        ("SCHEDULER_ROLE_ARN", scheduler_role.clone()),
        ("SCHEDULE_DLQ_ARN", dlq_arn.clone()),
        ("RUST_LOG", "info".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(env, wanted, "the processor's environment");

    let mapping = only_mapping(&lambda, &out("ProcessorFunctionName")).await;
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
    let account = failures_arn
        .split(':')
        .nth(4)
        .expect("account in ARN")
        .to_owned();
    let bucket = out("ConfigBucketName");
    let mut allowed = Allowed::default();
    allowed.own_logs(&account, &out("ProcessorFunctionName"));
    allowed.configs(&bucket, expect.prefix);
    let mut allow = |actions: &[&str], resource: String, condition: Option<Value>| {
        allowed.allow(actions, resource, condition);
    };
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
    allow(&["sqs:SendMessage"], command_queue_arn.clone(), None);
    allow(&["sqs:SendMessage"], failures_arn, None);
    allow(
        &["dynamodb:UpdateItem"],
        table_arn.to_owned(),
        Some(json!({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#failure#*"]}})),
    );
    // Alarms: schedules in the stack's group only, passing the scheduler's
    // role to the scheduler only.
    allow(
        &["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
        format!("arn:aws:scheduler:us-east-1:{account}:schedule/{group}/*"),
        None,
    );
    allow(
        &["iam:PassRole"],
        scheduler_role.clone(),
        Some(json!({"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}})),
    );
    let role_arn = function.role().expect("the processor's role");
    assert_eq!(
        granted(sdk, role_arn).await,
        allowed.0,
        "the processor's role grants exactly what it uses, on this stack's resources"
    );

    // The scheduler's role: the alarm's command to the command queue, a
    // delivery given up to the dead-letter queue; nothing else.
    let mut scheduler = Allowed::default();
    scheduler.allow(&["sqs:SendMessage"], command_queue_arn, None);
    scheduler.allow(&["sqs:SendMessage"], dlq_arn, None);
    assert_eq!(
        granted(sdk, &scheduler_role).await,
        scheduler.0,
        "the scheduler's role sends to the command queue and its DLQ only"
    );
    // Named from the stack id's UUID, not its name, so that any stack name
    // (up to CloudFormation's 128 characters) gives a name within the
    // scheduler's 64.
    assert!(
        group.starts_with("alarms-") && group.len() == "alarms-".len() + 36,
        "the group is named from the stack's id: {group}"
    );
}
