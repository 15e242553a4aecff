//! The template on moto's CloudFormation: every resource read back through
//! the service APIs, for two sets of parameters.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::TableDescription;
use serde_json::{Value, json};
use testkit::moto::{moto, unique_name};
use testkit::progress::Progress;

use super::grants::{Grant, granted};
use super::{queue_attributes, template_path};

/// What every function environment holds besides the resource names.
const DEFAULT_ENV: [(&str, &str); 5] = [
    ("CONFIG_CACHE_SECONDS", "60"),
    ("HANDLER_CONCURRENCY", "16"),
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
        params: vec![("EventSourceEnabled", "false")],
        function_timeout: 30,
        reject_to_dlq: false,
        prefix: "",
        batch_size: 10,
        batching_window: 0,
    };
    let tuned = Expect {
        params: vec![
            ("EventSourceEnabled", "false"),
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
    assert_eq!(out("ConfigPrefix"), expect.prefix);

    let lambda = aws_sdk_lambda::Client::new(sdk);
    let function = lambda
        .get_function_configuration()
        .function_name(out("FunctionName"))
        .send()
        .await
        .expect("GetFunctionConfiguration");
    assert_eq!(
        function.runtime(),
        Some(&aws_sdk_lambda::types::Runtime::Providedal2023)
    );
    assert_eq!(function.handler(), Some("bootstrap"));
    assert_eq!(function.timeout(), Some(expect.function_timeout));
    let env: BTreeMap<String, String> = function
        .environment()
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
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
    let mappings = lambda
        .list_event_source_mappings()
        .function_name(out("FunctionName"))
        .send()
        .await
        .expect("ListEventSourceMappings");
    let [mapping] = mappings.event_source_mappings() else {
        panic!("one event source mapping, got {mappings:?}");
    };
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
            out("FunctionName")
        ),
        None,
    );
    // What the Lambda's store calls: `load` is one BatchGetItem, `append`
    // one TransactWriteItems of Puts (authorised as PutItem),
    // `record_failures` UpdateItems. GetItem and Query serve cmdctl only.
    allow(
        &[
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ],
        table_arn,
        None,
    );
    allow(
        &["s3:GetObject"],
        format!("arn:aws:s3:::{bucket}/{}*", expect.prefix),
        None,
    );
    // Without it S3 answers a missing config with 403, not 404, and the
    // handler could not tell `unknown_aggregate_type` from an outage. S3
    // checks it with the missing key as `s3:prefix`: only keys below the
    // config prefix may be listed.
    allow(
        &["s3:ListBucket"],
        format!("arn:aws:s3:::{bucket}"),
        Some(json!({"StringLike": {"s3:prefix": format!("{}*", expect.prefix)}})),
    );
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
    if expect.reject_to_dlq {
        let dlq_arn = self::queue_arn(sdk, &out("DeadLetterQueueUrl")).await;
        allow(&["sqs:SendMessage"], dlq_arn, None);
    }
    assert_eq!(
        granted, allowed,
        "the role grants exactly what the function uses, on this stack's resources"
    );
    Ok(())
}

/// Waits for the stack to be created, as long as it progresses: it fails
/// on any other final status, or after a minute in which neither the
/// stack's nor any resource's status changed.
async fn wait_for_stack(
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

async fn queue_arn(sdk: &SdkConfig, url: &str) -> String {
    queue_attributes(sdk, url)
        .await
        .remove("QueueArn")
        .expect("QueueArn")
}

async fn check_queues(sdk: &SdkConfig, queue: &str, dlq: &str, expect: &Expect) {
    let queue = queue_attributes(sdk, queue).await;
    let dlq = queue_attributes(sdk, dlq).await;
    let redrive: Value =
        serde_json::from_str(&queue["RedrivePolicy"]).expect("RedrivePolicy is JSON");
    assert_eq!(redrive["deadLetterTargetArn"], json!(dlq["QueueArn"]));
    let receives = &redrive["maxReceiveCount"];
    assert!(
        receives == &json!(10) || receives == &json!("10"),
        "maxReceiveCount 10, got {receives}"
    );
    let visibility: i32 = queue["VisibilityTimeout"].parse().expect("a number");
    assert!(
        visibility >= 6 * expect.function_timeout,
        "visibility {visibility} s < 6 x the function's {} s",
        expect.function_timeout
    );
    assert_eq!(
        dlq["MessageRetentionPeriod"], "1209600",
        "the DLQ keeps 14 days"
    );
}

/// Checks the stack's table against the one `store_dynamodb::create_table`
/// makes (the code's own definition), and returns its ARN.
async fn check_table(sdk: &SdkConfig, table: &str) -> String {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let reference = unique_name("reference");
    store_dynamodb::create_table(&dynamo, &reference)
        .await
        .expect("create the reference table");
    let describe = |name: String| {
        let dynamo = dynamo.clone();
        async move {
            dynamo
                .describe_table()
                .table_name(name)
                .send()
                .await
                .expect("DescribeTable")
                .table()
                .cloned()
                .expect("a table")
        }
    };
    let ours = describe(table.to_owned()).await;
    let code = describe(reference).await;
    assert_eq!(
        shape(&ours),
        shape(&code),
        "template table = create_table's"
    );
    assert_eq!(
        ours.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
    let stream = ours.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&aws_sdk_dynamodb::types::StreamViewType::NewImage)
    );
    let index = ours
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some(store_dynamodb::items::HEADS_INDEX))
        .expect("the heads-by-type index");
    let projection = index.projection().expect("a projection");
    assert_eq!(
        projection.projection_type(),
        Some(&aws_sdk_dynamodb::types::ProjectionType::Include)
    );
    ours.table_arn().expect("a table ARN").to_owned()
}

/// Keys, attribute types, indexes and stream of a table, comparable.
fn shape(t: &TableDescription) -> String {
    let mut attributes: Vec<String> = t
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{:?}", a.attribute_name(), a.attribute_type()))
        .collect();
    attributes.sort();
    let keys = |k: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        k.iter()
            .map(|k| format!("{}:{:?}", k.attribute_name(), k.key_type()))
            .collect::<Vec<_>>()
    };
    let mut indexes: Vec<String> = t
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let projection = i.projection();
            let mut non_key: Vec<&String> = projection
                .map(|p| p.non_key_attributes().iter().collect())
                .unwrap_or_default();
            non_key.sort();
            format!(
                "{:?} {:?} {:?} {non_key:?}",
                i.index_name(),
                keys(i.key_schema()),
                projection.and_then(|p| p.projection_type())
            )
        })
        .collect();
    indexes.sort();
    format!(
        "attributes {attributes:?}\nkeys {:?}\nindexes {indexes:?}\nstream {:?}",
        keys(t.key_schema()),
        t.stream_specification()
            .map(|s| (s.stream_enabled(), s.stream_view_type().cloned()))
    )
}

async fn check_bucket(sdk: &SdkConfig, bucket: &str) {
    let s3 = aws_sdk_s3::Client::new(sdk);
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketEncryption: the config bucket is encrypted");
    let algorithm = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().clone());
    assert_eq!(
        algorithm,
        Some(aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );
    // moto 5.2 drops PublicAccessBlockConfiguration from CloudFormation; when
    // an emulator keeps it, it must block everything (the template's own
    // declaration is checked in `the_template_declares_what_moto_skips`).
    if let Ok(block) = s3.get_public_access_block().bucket(bucket).send().await {
        let c = block
            .public_access_block_configuration()
            .expect("a configuration");
        assert_eq!(
            (
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true))
        );
    }
}
