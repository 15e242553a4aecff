//! The role's grants: read from IAM (and moto's repr of them), and checked
//! against the requests the Lambda really sends.

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use serde_json::Value;

use super::{strings, template};

/// One (action, resource) a role allows, and the condition it is allowed
/// under (its JSON), if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Grant {
    pub(super) action: String,
    pub(super) resource: String,
    pub(super) condition: Option<String>,
}

/// Every grant of the role, from its inline policies; it must have no
/// managed ones and no `Deny`, `NotAction` or `NotResource`.
pub(super) async fn granted(sdk: &SdkConfig, role_arn: &str) -> BTreeSet<Grant> {
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

/// The role's DynamoDB and S3 grants are what the Lambda really sends: the
/// init checks the table, the function body runs a batch with applied and failed commands (load,
/// append, failure records, configs) on counting clients, and each request
/// is mapped to the IAM action that authorises it.
#[tokio::test]
async fn the_role_grants_what_the_lambda_sends() {
    use lambda_runtime::{Context, LambdaEvent};

    let stack = testkit::aws::AwsStack::new().await;
    // The init's table check, then a batch.
    stack.store().check_table().await.expect("table layout 2");
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
    // An outside event: its binding is searched for in the configs listed
    // under the prefix (ListObjectsV2, authorised by s3:ListBucket).
    let provider = serde_json::json!({
        "version": "0", "id": "e-grants", "source": "payments.provider",
        "detail-type": "PaymentFailed", "account": "123456789012",
        "time": "2030-01-01T12:00:00Z", "region": "us-east-1", "resources": [],
        "detail": { "orderId": "grants-1" }
    });
    let event = serde_json::json!({ "Records": [ {
        "messageId": "m-event", "receiptHandle": "r", "body": provider.to_string(),
        "attributes": { "ApproximateReceiveCount": "1" }, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:commands", "awsRegion": "us-east-1"
    } ] });
    let event = lambda_sqs::parse_event(&event.to_string()).expect("an SQS event");
    let bound = lambda_sqs::handle_event(
        &stack.handler(),
        LambdaEvent::new(event, Context::default()),
    )
    .await;
    // No charge waits for it: refused (invalid_transition), recorded.
    assert_eq!(bound.batch_item_failures.len(), 1, "{bound:?}");
    let authorised_by = |operation: &str| -> &'static str {
        match operation {
            "Query" => "dynamodb:Query",
            "PutItem" => "dynamodb:PutItem",
            "DescribeTable" => "dynamodb:DescribeTable",
            // The store's transactions hold Puts only (no ConditionCheck,
            // Update or Delete): IAM authorises each as PutItem.
            "TransactWriteItems" => "dynamodb:PutItem",
            "UpdateItem" => "dynamodb:UpdateItem",
            "GetObject" => "s3:GetObject",
            "ListObjectsV2" => "s3:ListBucket",
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
        statement("EventStore")
            .into_iter()
            .chain(statement("TableCheckAtInit"))
            .collect(),
        "the table's grants are exactly the actions the Lambda's requests need"
    );
    assert_eq!(
        sent(&stack.s3_requests),
        BTreeSet::from(["s3:GetObject".to_owned(), "s3:ListBucket".to_owned()])
    );
    assert_eq!(statement("ReadConfigs"), ["s3:GetObject"]);
    // Listed under the config prefix only (the statement's condition).
    assert_eq!(
        statement("MissingConfigIsNotFoundNotDenied"),
        ["s3:ListBucket"]
    );
}

/// The processor's role (`ProcessorRole`) grants what the processor sends
/// from its function body: a batch with a published event, its reaction,
/// and a reaction that cannot be built (its failure record, the one table
/// write, under a `#failure#` key as the role's condition demands). The
/// stream itself is read by Lambda's event source mapping with the role's
/// `ReadStream` grants.
#[tokio::test]
async fn the_processor_role_grants_what_the_processor_sends() {
    use handler_core::FailureLog;

    use crate::processor::harness::{Rig, command};
    use crate::processor::ship;

    let mut rig = Rig::new().await;
    // p-2's reaction names no depot: it cannot be built.
    rig.apply(&[
        ship("p-1", "d-1"),
        command("parcel", "p-2", "Ship", serde_json::json!({})),
    ])
    .await;
    let records = rig.stream.read().await;
    rig.stack.dynamo_requests.reset();
    rig.stack.s3_requests.reset();
    let report = rig
        .processor(rig.put_events())
        .process(
            lambda_dynamodb_stream::records::source_records(&testkit::stream::StreamReader::event(
                &records,
            ))
            .expect("a stream event"),
        )
        .await;
    assert!(report.all_finished(), "{report:?}");
    assert_eq!(
        (
            report.published(),
            report.reactions_sent(),
            report.reactions_failed()
        ),
        (2, 1, 1)
    );

    let authorised_by = |operation: &str| -> &'static str {
        match operation {
            "PutEvents" => "events:PutEvents",
            "SendMessageBatch" => "sqs:SendMessage",
            "GetObject" => "s3:GetObject",
            "UpdateItem" => "dynamodb:UpdateItem",
            other => {
                panic!("the processor sends {other}: grant it in template.json and map it here")
            }
        }
    };
    let sent: BTreeSet<String> = [
        &rig.events_requests,
        &rig.sink_requests,
        &rig.stack.s3_requests,
        &rig.stack.dynamo_requests,
    ]
    .iter()
    .flat_map(|counter| counter.sent())
    .map(|op| authorised_by(&op).to_owned())
    .collect();
    // Read after counting: GetItem is the test's, not the processor's.
    let failure = rig
        .stack
        .store()
        .failure("parcel#p-2@1/0")
        .await
        .expect("GetItem")
        .expect("the failure record, under #failure#parcel#p-2@1/0");
    assert_eq!(failure.last.code, "reaction_failed");
    let statements = processor_statements();
    let actions = |sid: &str| statement_actions(&statements, sid);
    assert_eq!(
        sent,
        [
            "Publish",
            "SendReactions",
            "ReadConfigs",
            "FailureRecordsOnly"
        ]
        .into_iter()
        .flat_map(actions)
        .collect(),
        "the processor's grants beyond logs, stream and on-failure queue are exactly what it sends"
    );
    let sids: BTreeSet<&str> = statements
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    assert_eq!(
        sids,
        BTreeSet::from([
            "WriteOwnLogs",
            "ReadStream",
            "Publish",
            "SendReactions",
            "ReadConfigs",
            "MissingConfigIsNotFoundNotDenied",
            "FailureRecordsOnly",
            "OnFailureDestination",
            // What the alarm sink sends: tests/suite/alarms_moto/.
            "ScheduleAlarms",
            "PassSchedulerRole",
        ]),
        "nothing more"
    );
}

/// The processor's alarm grants (`ScheduleAlarms`, with `SendReactions`)
/// are what its alarm sink sends: a delayed message, schedules created, a
/// schedule deleted. (`PassSchedulerRole` is what `CreateSchedule` needs for
/// the role it names: `template_alarms` checks it is that role only.)
#[tokio::test]
async fn the_processor_role_grants_what_its_alarm_sink_sends() {
    use crate::alarms_moto::rig::{AlarmRig, from_now, start, timer};

    let mut rig = AlarmRig::new().await;
    rig.rig
        .apply(&[start("t-1", &from_now(60)), start("t-2", &from_now(7200))])
        .await;
    rig.process().await;
    rig.rig
        .apply(&[timer("t-2", "Stop", serde_json::json!({}))])
        .await;
    rig.process().await;
    let authorised_by = |operation: &str| -> &'static str {
        match operation {
            "SendMessageBatch" => "sqs:SendMessage",
            "CreateSchedule" => "scheduler:CreateSchedule",
            "DeleteSchedule" => "scheduler:DeleteSchedule",
            other => {
                panic!("the alarm sink sends {other}: grant it in template.json and map it here")
            }
        }
    };
    let sent: BTreeSet<String> = [&rig.rig.sink_requests, &rig.scheduler_requests]
        .iter()
        .flat_map(|counter| counter.sent())
        .map(|op| authorised_by(&op).to_owned())
        .collect();
    let statements = processor_statements();
    let actions = |sid: &str| statement_actions(&statements, sid);
    assert_eq!(
        sent,
        ["SendReactions", "ScheduleAlarms"]
            .into_iter()
            .flat_map(actions)
            .collect(),
        "the alarm grants are exactly what the sink sends"
    );
}

/// The statements of the processor's role in the template.
fn processor_statements() -> Vec<Value> {
    template()["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .expect("statements")
        .clone()
}

/// The actions of statement `sid`.
fn statement_actions(statements: &[Value], sid: &str) -> Vec<String> {
    let found = statements
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("statement {sid}"));
    strings(&found["Action"])
}
