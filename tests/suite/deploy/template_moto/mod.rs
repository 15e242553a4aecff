//! The template on moto's CloudFormation: every resource read back through
//! the service APIs, for two sets of parameters.

mod allowed;
mod http_api;
mod processor;
mod resources;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::types::EventSourceMappingConfiguration;
use serde_json::Value;
use testkit::moto::{moto, unique_name};
use testkit::progress::Progress;

use super::grants::granted;
use super::template_path;

use allowed::Allowed;
use http_api::check_http_api;
use processor::check_processor;
use resources::{check_bucket, check_queues, check_table, queue_arn};

/// What every function environment holds besides the resource names.
const DEFAULT_ENV: [(&str, &str); 5] = [
    ("CONFIG_CACHE_SECONDS", "60"),
    ("HANDLER_CONCURRENCY", "100"),
    ("MAX_CONFLICT_ATTEMPTS", "5"),
    ("DEADLINE_MARGIN_MS", "2000"),
    ("RUST_LOG", "info"),
];

/// A stack's parameters (beyond the code's place) and what they should make.
struct Expect {
    params: Vec<(&'static str, &'static str)>,
    function_timeout: i32,
    reject_to_dlq: bool,
    prefix: &'static str,
    batch_size: i32,
    batching_window: i32,
}

#[tokio::test]
async fn the_template_makes_what_the_handler_needs_on_moto() {
    let started = Instant::now();
    let sdk = moto().sdk_config().await;
    let code = code_in_s3(&sdk).await;
    let defaults = Expect {
        params: vec![
            ("EventSourceEnabled", "false"),
            ("HttpApiUrlEnabled", "false"),
        ],
        function_timeout: 30,
        reject_to_dlq: false,
        prefix: "",
        batch_size: 10,
        batching_window: 0,
    };
    let tuned = Expect {
        params: vec![
            ("EventSourceEnabled", "false"),
            ("HttpApiUrlEnabled", "false"),
            ("FunctionTimeout", "60"),
            ("RejectToDlq", "true"),
            ("ConfigPrefix", "configs/"),
            ("BatchSize", "25"),
            ("MaximumBatchingWindowInSeconds", "5"),
            ("Architecture", "arm64"),
        ],
        function_timeout: 60,
        reject_to_dlq: true,
        prefix: "configs/",
        batch_size: 25,
        batching_window: 5,
    };
    let (a, b) = tokio::join!(
        deploy_and_check(&sdk, &code, &defaults),
        deploy_and_check(&sdk, &code, &tuned),
    );
    a.expect("stack with the defaults");
    b.expect("stack with tuned parameters");
    eprintln!("two stacks made and checked in {:?}", started.elapsed());
}

/// Where the function's code is: bucket, key and object version.
struct Code {
    bucket: String,
    key: String,
    version: String,
}

/// A versioned bucket holding an (empty, valid) zip for the function's code.
async fn code_in_s3(sdk: &SdkConfig) -> Code {
    let s3 = aws_sdk_s3::Client::new(sdk);
    let bucket = unique_name("code");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create code bucket");
    s3.put_bucket_versioning()
        .bucket(&bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("version the code bucket");
    let empty_zip: Vec<u8> = [b"PK\x05\x06".as_slice(), &[0; 18]].concat();
    let key = "command-handler/test.zip".to_owned();
    let put = s3
        .put_object()
        .bucket(&bucket)
        .key(&key)
        .body(empty_zip.into())
        .send()
        .await
        .expect("upload code");
    let version = put.version_id().expect("a versioned object").to_owned();
    Code {
        bucket,
        key,
        version,
    }
}

async fn deploy_and_check(sdk: &SdkConfig, code: &Code, expect: &Expect) -> Result<(), String> {
    let cf = aws_sdk_cloudformation::Client::new(sdk);
    let name = unique_name("stack");
    let body = std::fs::read_to_string(template_path()).expect("read template.json");
    let mut params = vec![
        ("CodeBucket", code.bucket.as_str()),
        ("CodeKey", code.key.as_str()),
        ("CodeObjectVersion", code.version.as_str()),
        ("ProcessorCodeKey", code.key.as_str()),
        ("ProcessorCodeObjectVersion", code.version.as_str()),
        ("HttpApiCodeKey", code.key.as_str()),
        ("HttpApiCodeObjectVersion", code.version.as_str()),
    ];
    params.extend(expect.params.iter().copied());
    cf.create_stack()
        .stack_name(&name)
        .template_body(body)
        .capabilities(Capability::CapabilityIam)
        .set_parameters(Some(
            params
                .iter()
                .map(|(k, v)| {
                    Parameter::builder()
                        .parameter_key(*k)
                        .parameter_value(*v)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| {
            format!(
                "CreateStack: {}",
                aws_sdk_cloudformation::error::DisplayErrorContext(&e)
            )
        })?;
    let outputs = wait_for_stack(&cf, &name).await?;
    let out = |k: &str| {
        outputs
            .get(k)
            .cloned()
            .unwrap_or_else(|| panic!("output {k} missing from {outputs:?}"))
    };

    check_queues(sdk, &out("QueueUrl"), &out("DeadLetterQueueUrl"), expect).await;
    let table_arn = check_table(sdk, &out("TableName")).await;
    check_bucket(sdk, &out("ConfigBucketName")).await;
    check_processor(sdk, &out, &table_arn, expect).await;
    check_http_api(sdk, &out, &outputs, &table_arn, expect).await;
    assert_eq!(out("ConfigPrefix"), expect.prefix);

    let lambda = aws_sdk_lambda::Client::new(sdk);
    let (function, env) = function(&lambda, &out("FunctionName"), expect).await;
    let mut wanted: BTreeMap<String, String> = DEFAULT_ENV
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    wanted.insert("DYNAMO_TABLE_NAME".into(), out("TableName"));
    wanted.insert("S3_BUCKET_NAME".into(), out("ConfigBucketName"));
    wanted.insert("S3_CONFIG_PREFIX".into(), expect.prefix.into());
    if expect.reject_to_dlq {
        wanted.insert("REJECT_TO_DLQ_URL".into(), out("DeadLetterQueueUrl"));
    }
    assert_eq!(env, wanted, "the function's environment");

    let queue_arn = queue_arn(sdk, &out("QueueUrl")).await;
    let mapping = only_mapping(&lambda, &out("FunctionName")).await;
    assert_eq!(mapping.event_source_arn(), Some(queue_arn.as_str()));
    assert_eq!(
        mapping.function_response_types(),
        &[aws_sdk_lambda::types::FunctionResponseType::ReportBatchItemFailures]
    );
    assert_eq!(mapping.batch_size(), Some(expect.batch_size));
    assert_eq!(
        mapping.maximum_batching_window_in_seconds(),
        Some(expect.batching_window)
    );
    assert_eq!(
        mapping.state(),
        Some("Disabled"),
        "EventSourceEnabled=false"
    );

    let role_arn = function.role().expect("the function's role");
    let granted = granted(sdk, role_arn).await;
    let account = queue_arn.split(':').nth(4).expect("account in ARN");
    let bucket = out("ConfigBucketName");
    let mut allowed = Allowed::default();
    allowed.own_logs(account, &out("FunctionName"));
    let mut allow = |actions: &[&str], resource: String, condition: Option<Value>| {
        allowed.allow(actions, resource, condition);
    };
    // What the Lambda's store calls: the init's check is one DescribeTable
    // (on the table only), `load` is Queries (the newest event on the table,
    // each command id on the `by-command` index), `append` one PutItem or one
    // TransactWriteItems of Puts (authorised as PutItem), `record_failures`
    // UpdateItems. GetItem serves cmdctl only.
    allow(&["dynamodb:DescribeTable"], table_arn.clone(), None);
    let event_store = ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"];
    allow(
        &event_store,
        format!("{table_arn}/index/{}", store_dynamodb::items::COMMAND_INDEX),
        None,
    );
    allow(&event_store, table_arn, None);
    allow(
        &[
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ChangeMessageVisibility",
        ],
        queue_arn.clone(),
        None,
    );
    allowed.configs(&bucket, expect.prefix);
    if expect.reject_to_dlq {
        let dlq_arn = self::queue_arn(sdk, &out("DeadLetterQueueUrl")).await;
        allowed.allow(&["sqs:SendMessage"], dlq_arn, None);
    }
    assert_eq!(
        granted, allowed.0,
        "the role grants exactly what the function uses, on this stack's resources"
    );
    Ok(())
}

/// A function of the stack, checked as both are made (`provided.al2023`,
/// `bootstrap`, the timeout), and its environment.
async fn function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    expect: &Expect,
) -> (GetFunctionConfigurationOutput, BTreeMap<String, String>) {
    let function = lambda
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
        .expect("GetFunctionConfiguration");
    assert_eq!(
        function.runtime(),
        Some(&aws_sdk_lambda::types::Runtime::Providedal2023)
    );
    assert_eq!(function.handler(), Some("bootstrap"));
    assert_eq!(function.timeout(), Some(expect.function_timeout));
    let env = function
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    (function, env)
}

/// The one event source mapping of a function.
async fn only_mapping(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> EventSourceMappingConfiguration {
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(name)
        .send()
        .await
        .expect("ListEventSourceMappings");
    let [mapping] = mappings.event_source_mappings() else {
        panic!("one event source mapping, got {mappings:?}");
    };
    mapping.clone()
}

/// Waits for the stack to be created, as long as it progresses: it fails
/// on any other final status, or after a minute in which neither the
/// stack's nor any resource's status changed.
pub(in crate::deploy) async fn wait_for_stack(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut progress = Progress::new(Duration::from_secs(60));
    loop {
        let described = cf
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .map_err(|e| format!("DescribeStacks: {e:?}"))?;
        let stack = described.stacks().first().ok_or("no stack")?;
        match stack.stack_status() {
            Some(StackStatus::CreateComplete) => {
                return Ok(stack
                    .outputs()
                    .iter()
                    .filter_map(|o| {
                        Some((o.output_key()?.to_owned(), o.output_value()?.to_owned()))
                    })
                    .collect());
            }
            Some(StackStatus::CreateInProgress) => {
                let resources = cf
                    .list_stack_resources()
                    .stack_name(name)
                    .send()
                    .await
                    .map_err(|e| format!("ListStackResources: {e:?}"))?;
                let statuses: Vec<(String, String)> = resources
                    .stack_resource_summaries()
                    .iter()
                    .map(|r| {
                        (
                            r.logical_resource_id().unwrap_or_default().to_owned(),
                            r.resource_status()
                                .map(|s| s.to_string())
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                progress.check(statuses).map_err(|stalled| {
                    format!("stack {name} stays CREATE_IN_PROGRESS: {stalled}")
                })?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => {
                return Err(format!(
                    "stack {name} is {other:?}: {:?}",
                    stack.stack_status_reason()
                ));
            }
        }
    }
}
