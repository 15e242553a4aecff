//! What moto skips or ignores, checked where the template declares it, and
//! the whole template against cfn-lint.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use testkit::moto::moto;

use super::{run, strings, template, template_path};

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

    // The bucket and the queues refuse requests not made over TLS.
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
        json!([{"Ref": "CommandQueue"}, {"Ref": "DeadLetterQueue"}, {"Ref": "ProcessorFailureQueue"}])
    );
    assert_eq!(
        props("QueuesPolicy")["PolicyDocument"]["Statement"],
        json!([deny_plain_http(
            "sqs:*",
            json!([
                {"Fn::GetAtt": ["CommandQueue", "Arn"]},
                {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]},
                {"Fn::GetAtt": ["ProcessorFailureQueue", "Arn"]}
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
