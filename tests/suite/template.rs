//! The deployment: `cmd/command-handler/deploy/template.json` on moto's
//! CloudFormation, read back through the service APIs, and the script behind
//! `cargo make zip` / `cargo make deploy` (`stack.py`) against moto.
//!
//! moto makes the queues, the table (keys, index, stream), the bucket (with
//! its encryption), the role and its inline policies, the function and the
//! event source mapping; it skips `AWS::CloudWatch::Alarm`,
//! `AWS::S3::BucketPolicy` and `AWS::SQS::QueuePolicy`, and ignores a
//! table's TTL and point-in-time recovery, a bucket's public access block,
//! versioning and ownership, a queue's `RedriveAllowPolicy`, and a
//! function's `Architectures` and `S3ObjectVersion`. Those are checked in
//! the template itself, and
//! the whole template against CloudFormation's resource schemas (cfn-lint,
//! which comes with moto).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus};
use aws_sdk_dynamodb::types::TableDescription;
use aws_sdk_sqs::types::QueueAttributeName as Q;
use serde_json::{Value, json};
use testkit::fault_proxy::{FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};
use testkit::progress::Progress;

/// What every function environment holds besides the resource names.
const DEFAULT_ENV: [(&str, &str); 5] = [
    ("CONFIG_CACHE_SECONDS", "60"),
    ("HANDLER_CONCURRENCY", "16"),
    ("MAX_CONFLICT_ATTEMPTS", "5"),
    ("DEADLINE_MARGIN_MS", "2000"),
    ("RUST_LOG", "info"),
];

/// The template and its scripts.
fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cmd/command-handler/deploy")
}

fn template_path() -> PathBuf {
    deploy_dir().join("template.json")
}

fn template() -> Value {
    let text = std::fs::read_to_string(template_path()).expect("read template.json");
    serde_json::from_str(&text).expect("template.json is JSON")
}

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

async fn queue_attributes(sdk: &SdkConfig, url: &str) -> BTreeMap<String, String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Q::All)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
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

/// One (action, resource) a role allows, and the condition it is allowed
/// under (its JSON), if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    action: String,
    resource: String,
    condition: Option<String>,
}

/// Every grant of the role, from its inline policies; it must have no
/// managed ones and no `Deny`, `NotAction` or `NotResource`.
async fn granted(sdk: &SdkConfig, role_arn: &str) -> BTreeSet<Grant> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let role = role_arn.rsplit('/').next().expect("a role name");
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("ListAttachedRolePolicies");
    assert!(
        attached.attached_policies().is_empty(),
        "no managed policies: {attached:?}"
    );
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .expect("ListRolePolicies");
    let mut out = BTreeSet::new();
    for name in names.policy_names() {
        let policy = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .expect("GetRolePolicy");
        let document = policy_document(policy.policy_document());
        let statements = match &document["Statement"] {
            Value::Array(s) => s.clone(),
            one => vec![one.clone()],
        };
        for s in statements {
            assert_eq!(s["Effect"], "Allow", "{name}: {s}");
            for forbidden in ["NotAction", "NotResource"] {
                assert!(s.get(forbidden).is_none(), "{name}: {forbidden} in {s}");
            }
            let condition = s.get("Condition").map(Value::to_string);
            for action in strings(&s["Action"]) {
                for resource in strings(&s["Resource"]) {
                    out.insert(Grant {
                        action: action.clone(),
                        resource,
                        condition: condition.clone(),
                    });
                }
            }
        }
    }
    out
}

/// IAM returns a policy URL-encoded; moto returns the documents of a role's
/// `Policies` property as a Python dict's repr. Both become JSON here.
fn policy_document(raw: &str) -> Value {
    let decoded = percent_decode(raw);
    serde_json::from_str(&decoded)
        .or_else(|_| serde_json::from_str(&decoded.replace('\'', "\"")))
        .unwrap_or_else(|e| panic!("policy document {decoded:?}: {e}"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || {
            let h = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            u8::from_str_radix(h, 16).ok()
        };
        match (bytes[i], hex()) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8 policy")
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect(),
        other => panic!("expected a string or a list, got {other}"),
    }
}

/// What moto skips or ignores, checked where it is declared.
#[test]
fn the_template_declares_what_moto_skips() {
    let t = template();
    assert!(t.get("Transform").is_none(), "plain CloudFormation, no SAM");
    let resource = |name: &str| -> &Value {
        t["Resources"]
            .get(name)
            .unwrap_or_else(|| panic!("resource {name}"))
    };
    let props = |name: &str| -> &Value { &resource(name)["Properties"] };

    // The table: TTL on the records' expiresAt, kept on stack deletion.
    assert_eq!(
        props("EventTable")["TimeToLiveSpecification"],
        json!({"AttributeName": store_dynamodb::items::TTL_ATTRIBUTE, "Enabled": true})
    );
    assert_eq!(resource("EventTable")["DeletionPolicy"], "Retain");

    // The bucket: private and encrypted.
    assert_eq!(
        props("ConfigBucket")["PublicAccessBlockConfiguration"],
        json!({"BlockPublicAcls": true, "BlockPublicPolicy": true,
               "IgnorePublicAcls": true, "RestrictPublicBuckets": true})
    );
    assert!(props("ConfigBucket")["BucketEncryption"].is_object());

    // The alarm: on the DLQ's depth.
    let alarm = resource("DeadLetterAlarm");
    assert_eq!(alarm["Type"], "AWS::CloudWatch::Alarm");
    let alarm = &alarm["Properties"];
    assert_eq!(alarm["Namespace"], "AWS/SQS");
    assert_eq!(alarm["MetricName"], "ApproximateNumberOfMessagesVisible");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}}])
    );
    assert_eq!(alarm["Threshold"], json!({"Ref": "AlarmThreshold"}));
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");

    // The bucket and both queues refuse requests not made over TLS.
    let deny_plain_http = |action: &str, resources: Value| {
        json!({
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": action,
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        })
    };
    assert_eq!(
        props("ConfigBucketPolicy")["PolicyDocument"]["Statement"],
        json!([deny_plain_http(
            "s3:*",
            json!([{"Fn::GetAtt": ["ConfigBucket", "Arn"]}, {"Fn::Sub": "${ConfigBucket.Arn}/*"}])
        )])
    );
    assert_eq!(resource("QueuesPolicy")["Type"], "AWS::SQS::QueuePolicy");
    assert_eq!(
        props("QueuesPolicy")["Queues"],
        json!([{"Ref": "CommandQueue"}, {"Ref": "DeadLetterQueue"}])
    );
    assert_eq!(
        props("QueuesPolicy")["PolicyDocument"]["Statement"],
        json!([deny_plain_http(
            "sqs:*",
            json!([
                {"Fn::GetAtt": ["CommandQueue", "Arn"]},
                {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
            ])
        )])
    );

    // Only the command queue may use the DLQ as its dead-letter queue. Its
    // ARN is spelled out from its name: a GetAtt would be a cycle with the
    // command queue's RedrivePolicy.
    let queue_name = props("CommandQueue")["QueueName"]["Fn::Sub"]
        .as_str()
        .expect("the command queue's name is a Fn::Sub");
    assert_eq!(
        props("DeadLetterQueue")["RedriveAllowPolicy"],
        json!({
            "redrivePermission": "byQueue",
            "sourceQueueArns": [{"Fn::Sub": format!(
                "arn:${{AWS::Partition}}:sqs:${{AWS::Region}}:${{AWS::AccountId}}:{queue_name}"
            )}]
        })
    );

    // The function: its architecture is the parameter's; its code is the
    // object version the deploy uploaded, not whatever the key holds later.
    assert_eq!(
        props("Function")["Architectures"],
        json!([{"Ref": "Architecture"}])
    );
    assert_eq!(
        props("Function")["Code"],
        json!({
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "CodeKey"},
            "S3ObjectVersion": {"Ref": "CodeObjectVersion"}
        })
    );
    assert_eq!(props("Function")["Runtime"], "provided.al2023");

    // Visibility = 6 x the function's timeout, for every timeout allowed.
    let allowed = strings(&t["Parameters"]["FunctionTimeout"]["AllowedValues"]);
    let table = t["Mappings"]["Timeouts"].as_object().expect("Timeouts");
    assert_eq!(
        table.keys().cloned().collect::<BTreeSet<_>>(),
        allowed.iter().cloned().collect::<BTreeSet<_>>()
    );
    for (key, row) in table {
        let function = row["Function"].as_i64().expect("a number");
        let queue = row["Queue"].as_i64().expect("a number");
        assert_eq!(key.parse::<i64>().ok(), Some(function));
        assert!(
            queue >= 6 * function,
            "timeout {function}: visibility {queue}"
        );
    }
    assert_eq!(
        props("CommandQueue")["VisibilityTimeout"],
        json!({"Fn::FindInMap": ["Timeouts", {"Ref": "FunctionTimeout"}, "Queue"]})
    );
    assert_eq!(
        props("Function")["Timeout"],
        json!({"Fn::FindInMap": ["Timeouts", {"Ref": "FunctionTimeout"}, "Function"]})
    );

    // Every variable the binary reads is set by the template.
    let main = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../cmd/command-handler/src/main.rs"),
    )
    .expect("read the Lambda's main.rs");
    let variables = props("Function")["Environment"]["Variables"]
        .as_object()
        .expect("variables");
    for name in main.split('"').skip(1).step_by(2) {
        let is_variable = name.len() > 3
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !name.starts_with("AWS_");
        if is_variable {
            assert!(
                variables.contains_key(name),
                "the function reads {name} but the template does not set it"
            );
        }
    }
}

/// The template against CloudFormation's own resource schemas and rules.
#[test]
fn the_template_passes_cfn_lint() {
    // The interpreter that runs moto has cfn-lint (moto[server] brings it).
    let python = moto().python();
    let out = run(Command::new(python).args([
        "-c",
        "import sys; from cfnlint.runner import main; sys.argv = ['cfn-lint', sys.argv[1]]; sys.exit(main())",
        template_path().to_str().expect("UTF-8 path"),
    ]));
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo make zip` and `cargo make deploy` run `stack.py`; here it runs
/// against moto: a deterministic zip, a stack created, an unchanged
/// redeploy, new code and a parameter rolled out, a bad parameter refused.
/// The code bucket is versioned and TLS-only, the stack pins the zip's
/// version, and every S3 request names the caller's account as the
/// bucket's expected owner (moto does not check it: a proxy between the
/// script and moto records the requests).
// Two workers: the script runs blocking on one, the proxy serves on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_script_creates_and_updates_the_stack_on_moto() {
    let started = Instant::now();
    let sdk = moto().sdk_config().await;
    let python = moto().python();
    let proxy = FaultProxy::start(moto().endpoint(), FaultPlan::default()).await;
    proxy.record();
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("bootstrap");
    let zip = dir.path().join("lambda").join("bootstrap.zip");
    let env_file = dir.path().join("stack.env");
    let stack = unique_name("deployed");
    let script = deploy_dir().join("stack.py");
    let stack_py = |args: &[&str]| {
        let mut cmd = Command::new(python);
        cmd.arg(&script)
            .args(args)
            .envs(moto().env())
            .env("AWS_ENDPOINT_URL", proxy.endpoint());
        for unset in [
            "STACK_NAME",
            "CODE_BUCKET",
            "AWS_PROFILE",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(unset);
        }
        run(&mut cmd)
    };
    let zip_of = |contents: &[u8]| {
        std::fs::write(&binary, contents).expect("write binary");
        let out = stack_py(&[
            "zip",
            binary.to_str().expect("path"),
            zip.to_str().expect("path"),
        ]);
        assert!(out.status.success(), "zip: {}", stderr(&out));
        std::fs::read(&zip).expect("read zip")
    };

    // The zip: `bootstrap`, executable, at the root; the same bytes each time.
    let first = zip_of(b"\x7fELF first build");
    assert_eq!(first, zip_of(b"\x7fELF first build"), "deterministic zip");
    let listing = run(Command::new(python).args([
        "-c",
        "import sys, zipfile; [print(i.filename, oct(i.external_attr >> 16)) for i in zipfile.ZipFile(sys.argv[1]).infolist()]",
        zip.to_str().expect("path"),
    ]));
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        "bootstrap 0o100755"
    );
    std::fs::write(zip.with_file_name("ARCH"), "arm64\n").expect("write ARCH");

    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--zip",
            zip.to_str().expect("path"),
            "--stack-name",
            stack.as_str(),
            "--env-file",
            env_file.to_str().expect("path"),
        ];
        args.extend_from_slice(extra);
        stack_py(&args)
    };

    // Created, with the event source mapping off (AWS_ENDPOINT_URL is set).
    let out = deploy(&[]);
    assert!(out.status.success(), "first deploy: {}", stderr(&out));
    let cf = aws_sdk_cloudformation::Client::new(&sdk);
    let params = stack_parameters(&cf, &stack).await;
    assert_eq!(params["EventSourceEnabled"], "false");
    assert_eq!(params["Architecture"], "arm64", "from the ARCH file");
    assert!(
        params["CodeKey"].starts_with("command-handler/") && params["CodeKey"].ends_with(".zip")
    );
    let env = std::fs::read_to_string(&env_file).expect("the env file");
    for name in [
        "DYNAMO_TABLE_NAME",
        "S3_BUCKET_NAME",
        "S3_CONFIG_PREFIX",
        "CMDCTL_QUEUE_URL",
        "CMDCTL_DLQ_URL",
    ] {
        assert!(env.contains(&format!("export {name}=")), "{name} in {env}");
    }
    let outputs = stack_outputs(&cf, &stack).await;
    let account = outputs["QueueArn"]
        .split(':')
        .nth(4)
        .expect("account in ARN");
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let code_bucket = format!("{stack}-code-{account}-us-east-1");
    assert_eq!(params["CodeBucket"], code_bucket);
    // No TLS to moto: a TLS-only policy would lock the script out (moto
    // ignores its condition); on AWS the bucket gets one (see
    // `the_deploy_script_makes_a_code_bucket_that_only_its_account_reaches`).
    assert!(
        stderr(&out).contains("gets no TLS-only policy"),
        "{}",
        stderr(&out)
    );
    let current_version = |key: String| {
        let s3 = s3.clone();
        let bucket = code_bucket.clone();
        async move {
            s3.head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .expect("HeadObject of the zip")
                .version_id()
                .expect("a version id")
                .to_owned()
        }
    };
    // A versioned bucket gives every object a version id ("null" without).
    // (moto answers GetBucketVersioning with a root the Rust SDK refuses.)
    let first_version = current_version(params["CodeKey"].clone()).await;
    assert_ne!(first_version, "null", "the code bucket is versioned");
    assert_eq!(
        params["CodeObjectVersion"], first_version,
        "the stack pins the version uploaded"
    );
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let code_sha = || async {
        lambda
            .get_function_configuration()
            .function_name(&outputs["FunctionName"])
            .send()
            .await
            .expect("GetFunctionConfiguration")
            .code_sha256()
            .map(str::to_owned)
    };
    let before = code_sha().await;

    // Unchanged: succeeds (AWS says "No updates are to be performed").
    let out = deploy(&[]);
    assert!(out.status.success(), "unchanged deploy: {}", stderr(&out));
    assert!(stderr(&out).contains("code unchanged"), "{}", stderr(&out));

    // New code and a longer timeout: the function's code and the queue follow.
    zip_of(b"\x7fELF second build");
    let out = deploy(&["FunctionTimeout=60"]);
    assert!(out.status.success(), "update: {}", stderr(&out));
    assert_ne!(code_sha().await, before, "the new zip is deployed");
    let queue = queue_attributes(&sdk, &outputs["QueueUrl"]).await;
    assert_eq!(queue["VisibilityTimeout"], "360");
    let params = stack_parameters(&cf, &stack).await;
    assert_eq!(params["EventSourceEnabled"], "false", "kept from before");
    let second_version = current_version(params["CodeKey"].clone()).await;
    assert_eq!(params["CodeObjectVersion"], second_version);
    assert_ne!(second_version, first_version);

    // Every S3 request, the upload's included, names the caller's account
    // as the bucket's owner: S3 refuses it for a bucket someone else made.
    // CreateBucket takes no owner (S3 refuses a name already taken anyway).
    let create_bucket = format!("/{code_bucket}");
    let s3_requests: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|r| r.service() == Some("s3"))
        .filter(|r| !(r.operation == "S3 PUT" && r.path == create_bucket))
        .collect();
    assert!(
        s3_requests
            .iter()
            .any(|r| r.operation == "S3 PUT" && r.path.contains("/command-handler/")),
        "the uploads went through the proxy: {s3_requests:#?}"
    );
    for r in &s3_requests {
        assert_eq!(
            r.headers
                .get("x-amz-expected-bucket-owner")
                .map(String::as_str),
            Some(account),
            "{} {} without the expected bucket owner",
            r.operation,
            r.path
        );
    }

    // A parameter the template does not have: refused before anything runs.
    let out = deploy(&["Nope=1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no parameter 'Nope'"),
        "{}",
        stderr(&out)
    );
    eprintln!("deploy script checked in {:?}", started.elapsed());
}

/// On AWS (an endpoint with TLS), a new code bucket is made private,
/// encrypted, versioned and TLS-only, and every call after its creation
/// names the caller's account as its owner. Runs stack.py's
/// `ensure_code_bucket` on a client that records its calls.
#[test]
fn the_deploy_script_makes_a_code_bucket_that_only_its_account_reaches() {
    const RECORD: &str = r#"
import importlib.util, json, sys
sys.dont_write_bytecode = True
from botocore.exceptions import ClientError
spec = importlib.util.spec_from_file_location("stack", sys.argv[1])
stack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stack)
calls = []
class Recorder:
    def __getattr__(self, name):
        def call(**params):
            calls.append({"call": name, "params": params})
            if name in ("head_bucket", "get_bucket_policy"):
                code = "404" if name == "head_bucket" else "NoSuchBucketPolicy"
                raise ClientError({"Error": {"Code": code}}, name)
            return {}
        return call
stack.ensure_code_bucket(Recorder(), "code-bucket", "eu-west-1", "111122223333", tls_only=True)
print(json.dumps(calls))
"#;
    let python = moto().python();
    let out = run(Command::new(python).args([
        "-c",
        RECORD,
        deploy_dir().join("stack.py").to_str().expect("UTF-8 path"),
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let calls: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the calls, as JSON");
    let names: Vec<&str> = calls.iter().filter_map(|c| c["call"].as_str()).collect();
    assert_eq!(
        names,
        [
            "head_bucket",
            "create_bucket",
            "put_public_access_block",
            "put_bucket_encryption",
            "get_bucket_versioning",
            "put_bucket_versioning",
            "get_bucket_policy",
            "put_bucket_policy"
        ]
    );
    for call in &calls {
        if call["call"] != "create_bucket" {
            assert_eq!(
                call["params"]["ExpectedBucketOwner"], "111122223333",
                "{call}"
            );
        }
    }
    let params = |name: &str| &calls[names.iter().position(|n| *n == name).expect(name)]["params"];
    assert_eq!(
        params("put_bucket_versioning")["VersioningConfiguration"],
        json!({"Status": "Enabled"})
    );
    let policy: Value = serde_json::from_str(
        params("put_bucket_policy")["Policy"]
            .as_str()
            .expect("a policy"),
    )
    .expect("JSON policy");
    assert_eq!(
        policy["Statement"],
        json!([{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::code-bucket", "arn:aws:s3:::code-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]),
        "the code bucket refuses plain HTTP"
    );
}

async fn stack_parameters(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> BTreeMap<String, String> {
    let described = cf
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("DescribeStacks");
    described.stacks()[0]
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect()
}

async fn stack_outputs(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> BTreeMap<String, String> {
    let described = cf
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("DescribeStacks");
    described.stacks()[0]
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The role's DynamoDB and S3 grants are what the Lambda really sends: the
/// function body runs a batch with applied and failed commands (load,
/// append, failure records, configs) on counting clients, and each request
/// is mapped to the IAM action that authorises it.
#[tokio::test]
async fn the_role_grants_what_the_lambda_sends() {
    use lambda_runtime::{Context, LambdaEvent};

    let stack = testkit::aws::AwsStack::new().await;
    let event = lambda_sqs::parse_event(&testkit::fixtures::read("sqs-event-mixed.json"))
        .expect("fixture is an SQS event");
    let response = lambda_sqs::handle_event(
        &stack.handler(),
        LambdaEvent::new(event, Context::default()),
    )
    .await;
    assert!(
        !response.batch_item_failures.is_empty(),
        "the batch has failures, so failure records are written"
    );
    let authorised_by = |operation: &str| -> &'static str {
        match operation {
            "BatchGetItem" => "dynamodb:BatchGetItem",
            // The store's transactions hold Puts only (no ConditionCheck,
            // Update or Delete): IAM authorises each as PutItem.
            "TransactWriteItems" => "dynamodb:PutItem",
            "UpdateItem" => "dynamodb:UpdateItem",
            "GetObject" => "s3:GetObject",
            other => panic!("the Lambda sends {other}: grant it in template.json and map it here"),
        }
    };
    let sent = |counter: &testkit::requests::RequestCounter| -> BTreeSet<String> {
        counter
            .sent()
            .iter()
            .map(|op| authorised_by(op).to_owned())
            .collect()
    };
    let statement = |sid: &str| -> Vec<String> {
        let t = template();
        let statements = &t["Resources"]["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"]
            ["Statement"];
        let found = statements
            .as_array()
            .expect("statements")
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("statement {sid}"));
        strings(&found["Action"])
    };
    assert_eq!(
        sent(&stack.dynamo_requests),
        statement("EventStore").into_iter().collect(),
        "the table's grants are exactly the actions the Lambda's requests need"
    );
    assert_eq!(
        sent(&stack.s3_requests),
        BTreeSet::from(["s3:GetObject".to_owned()])
    );
    assert_eq!(statement("ReadConfigs"), ["s3:GetObject"]);
}
