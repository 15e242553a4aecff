//! The event processor in the template (docs/reference.md §8): its
//! function, its stream mapping, its alarm and its on-failure queue, checked
//! where the template declares them (moto skips alarms and ignores some of
//! a mapping's settings); its role against what it sends is in [`grants`](super::grants).

use serde_json::{Value, json};

use super::{template, variables_named_in};

#[test]
fn the_template_declares_the_processor_and_its_stream_mapping() {
    let t = template();
    let props = |name: &str| -> Value {
        t["Resources"]
            .get(name)
            .unwrap_or_else(|| panic!("resource {name}"))["Properties"]
            .clone()
    };

    let function = props("ProcessorFunction");
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["Architectures"], json!([{"Ref": "Architecture"}]));
    assert_eq!(
        function["Code"],
        json!({
            "S3Bucket": {"Ref": "CodeBucket"},
            "S3Key": {"Ref": "ProcessorCodeKey"},
            "S3ObjectVersion": {"Ref": "ProcessorCodeObjectVersion"}
        })
    );
    assert_eq!(
        function["Role"],
        json!({"Fn::GetAtt": ["ProcessorRole", "Arn"]})
    );
    let variables = function["Environment"]["Variables"]
        .as_object()
        .expect("variables");
    assert_eq!(
        variables["COMMAND_QUEUE_URL"],
        json!({"Ref": "CommandQueue"})
    );
    assert_eq!(variables["EVENT_BUS_NAME"], json!({"Ref": "EventBusName"}));
    assert_eq!(t["Parameters"]["EventBusName"]["Default"], "default");
    // Every variable the processor's environment reads is set.
    let read = variables_named_in("internal/processor-lambda/src/lib.rs");
    assert!(read.contains(&"EVENT_BUS_NAME".to_owned()), "{read:?}");
    for name in read {
        assert!(
            variables.contains_key(&name),
            "the processor reads {name} but the template does not set it"
        );
    }

    // The stream mapping: partial failures by SequenceNumber, bisection,
    // bounded retries and age, one batch per shard at a time (per-aggregate
    // order), a queue for what is given up, from the stream's oldest record.
    let mapping = props("StreamMapping");
    assert_eq!(
        mapping["EventSourceArn"],
        json!({"Fn::GetAtt": ["EventTable", "StreamArn"]})
    );
    assert_eq!(mapping["FunctionName"], json!({"Ref": "ProcessorFunction"}));
    assert_eq!(
        mapping["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(mapping["BisectBatchOnFunctionError"], true);
    // Transient work outlives an outage: retried until the record leaves
    // the stream (24 hours), never dropped after 10 quick retries; what is
    // refused for good is finished by the processor itself (a failure
    // record), so it does not retry either (issue 20 item 4).
    assert_eq!(mapping["MaximumRetryAttempts"], -1);
    assert_eq!(mapping["MaximumRecordAgeInSeconds"], -1);
    let alarm = props("ProcessorFailureAlarm");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "QueueName", "Value": {"Fn::GetAtt": ["ProcessorFailureQueue", "QueueName"]}}])
    );
    assert_eq!(alarm["Threshold"], 1);
    assert_eq!(mapping["ParallelizationFactor"], 1);
    assert_eq!(mapping["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(
        mapping["DestinationConfig"],
        json!({"OnFailure": {"Destination": {"Fn::GetAtt": ["ProcessorFailureQueue", "Arn"]}}})
    );
    assert_eq!(
        props("ProcessorFailureQueue")["MessageRetentionPeriod"],
        1_209_600
    );

    // The alarm: on the processor's iterator age.
    let alarm = props("IteratorAgeAlarm");
    assert_eq!(alarm["Namespace"], "AWS/Lambda");
    assert_eq!(alarm["MetricName"], "IteratorAge");
    assert_eq!(alarm["Statistic"], "Maximum");
    assert_eq!(
        alarm["Dimensions"],
        json!([{"Name": "FunctionName", "Value": {"Ref": "ProcessorFunction"}}])
    );
    assert_eq!(alarm["Threshold"], json!({"Ref": "IteratorAgeAlarmMs"}));

    // The failure records are the role's only table write, limited to
    // their keys.
    let statements = &props("ProcessorRole")["Policies"][0]["PolicyDocument"]["Statement"];
    let failure = statements
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Sid"] == "FailureRecordsOnly")
        .expect("FailureRecordsOnly");
    assert_eq!(failure["Action"], "dynamodb:UpdateItem");
    assert_eq!(
        failure["Condition"],
        json!({"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["#failure#*"]}})
    );
}

/// Issue 20 item 15: `EventBusName` may be an ARN (a bus elsewhere); the
/// `Publish` grant then names that ARN instead of building a wrong one.
#[test]
fn an_event_bus_given_as_an_arn_is_granted_as_that_arn() {
    let t = template();
    assert_eq!(
        t["Conditions"]["EventBusIsArn"],
        json!({"Fn::Equals": [{"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "EventBusName"}]}]}, "arn"]})
    );
    let statements = t["Resources"]["ProcessorRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        ["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    let publish = statements
        .iter()
        .find(|s| s["Sid"] == "Publish")
        .expect("a Publish statement");
    assert_eq!(
        publish["Resource"],
        json!({"Fn::If": ["EventBusIsArn", {"Ref": "EventBusName"},
            {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${EventBusName}"}]})
    );
}
