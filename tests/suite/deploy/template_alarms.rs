//! The alarms in the template (docs/operating.md, "Alarms on AWS"): the
//! schedule group (moto's CloudFormation skips `AWS::Scheduler::*`, so it
//! is checked here), the scheduler's role and who may assume it, the
//! processor's rights on the group's schedules and the role, and the
//! processor's variables, all naming the same group.

use serde_json::{Value, json};

use super::template;

#[test]
fn the_template_declares_the_schedule_group_and_the_schedulers_role() {
    let t = template();
    let resource = |name: &str| -> Value {
        t["Resources"]
            .get(name)
            .unwrap_or_else(|| panic!("resource {name}"))
            .clone()
    };
    let group_name = json!({"Fn::Join": ["-", ["alarms", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]});

    let group = resource("AlarmScheduleGroup");
    assert_eq!(group["Type"], "AWS::Scheduler::ScheduleGroup");
    assert_eq!(group["Properties"]["Name"], group_name);

    // The processor's variables: the group by the same name, the role, the
    // command queue as the target and its DLQ as the target's DLQ. The
    // function waits for the group.
    let function = resource("ProcessorFunction");
    let variables = &function["Properties"]["Environment"]["Variables"];
    assert_eq!(variables["SCHEDULE_GROUP_NAME"], group_name);
    assert_eq!(
        variables["SCHEDULER_ROLE_ARN"],
        json!({"Fn::GetAtt": ["SchedulerRole", "Arn"]})
    );
    assert_eq!(
        variables["COMMAND_QUEUE_ARN"],
        json!({"Fn::GetAtt": ["CommandQueue", "Arn"]})
    );
    assert_eq!(
        variables["SCHEDULE_DLQ_ARN"],
        json!({"Fn::GetAtt": ["DeadLetterQueue", "Arn"]})
    );
    let depends: Vec<&str> = function["DependsOn"]
        .as_array()
        .expect("DependsOn")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(depends.contains(&"AlarmScheduleGroup"), "{depends:?}");

    // Only EventBridge Scheduler, for this account, may assume the role.
    let role = resource("SchedulerRole");
    assert_eq!(role["Type"], "AWS::IAM::Role");
    assert_eq!(
        role["Properties"]["AssumeRolePolicyDocument"]["Statement"],
        json!([{
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
        }])
    );
    assert_eq!(
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"],
        json!([{
            "Sid": "DeliverAlarms",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": [
                {"Fn::GetAtt": ["CommandQueue", "Arn"]},
                {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
            ]
        }])
    );

    // The processor creates and deletes the schedules of that group only,
    // and passes that role to the scheduler only.
    let processor = resource("ProcessorRole");
    let statements = processor["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .clone();
    let statement = |sid: &str| -> Value {
        statements
            .iter()
            .find(|s| s["Sid"] == sid)
            .unwrap_or_else(|| panic!("statement {sid}"))
            .clone()
    };
    assert_eq!(
        statement("ScheduleAlarms"),
        json!({
            "Sid": "ScheduleAlarms",
            "Effect": "Allow",
            "Action": ["scheduler:CreateSchedule", "scheduler:DeleteSchedule"],
            "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/alarms-${Id}/*", {"Id": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}}]}
        })
    );
    assert_eq!(
        statement("PassSchedulerRole"),
        json!({
            "Sid": "PassSchedulerRole",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}
        })
    );
    assert_eq!(
        t["Outputs"]["ScheduleGroupName"]["Value"], group_name,
        "the output names the group the processor uses"
    );
}
