//! The configs' bindings in the stack: `stack.py render` (what `deploy`
//! deploys) adds one `AWS::Events::Rule` per rule of `cmdctl config
//! bindings --json` (the same function, `state_machine::binding_rules`)
//! and a queue-policy statement letting exactly those rules send; on moto,
//! a provider's event put on the bus reaches the command queue through its
//! rule, and the worker applies the bound command once, however often the
//! event is delivered.

use std::collections::BTreeMap;

use aws_sdk_cloudformation::types::Parameter;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use handler_core::{Batch, InboundMessage, all_events};
use serde_json::{Value, json};
use testkit::moto::unique_name;

use super::template_moto::wait_for_stack;
use super::{bindings_json, rendered_template, template};

/// The rules the template gets are exactly the configs' rules: one
/// resource each, its logical id the rule's, on the stack's bus, matching
/// the rule's pattern, targeting the command queue; and the queue policy
/// names exactly their ARNs. Nothing else of the template changes.
#[test]
fn the_template_makes_exactly_the_rules_cmdctl_prints() {
    let bindings = bindings_json();
    let rules = bindings["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 2, "config/payment.json binds two events");
    let rendered = rendered_template(&bindings);
    let resources = rendered["Resources"].as_object().expect("resources");
    let made: BTreeMap<&String, &Value> = resources
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .collect();
    let wanted: Vec<&str> = rules
        .iter()
        .map(|r| r["logicalId"].as_str().unwrap())
        .collect();
    assert_eq!(made.keys().map(|k| k.as_str()).collect::<Vec<_>>(), wanted);
    for rule in rules {
        let made = &made[&rule["logicalId"].as_str().unwrap().to_owned()]["Properties"];
        assert_eq!(made["EventPattern"], rule["eventPattern"]);
        assert_eq!(made["EventBusName"], json!({"Ref": "EventBusName"}));
        assert_eq!(made["State"], "ENABLED");
        assert_eq!(
            made["Targets"],
            json!([{"Id": "CommandQueue", "Arn": {"Fn::GetAtt": ["CommandQueue", "Arn"]}}])
        );
    }
    let statements =
        rendered["Resources"]["QueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements");
    let send = statements
        .iter()
        .find(|s| s["Sid"] == "BindingRulesSend")
        .expect("the rules may send");
    assert_eq!(
        send["Principal"],
        json!({"Service": "events.amazonaws.com"})
    );
    assert_eq!(send["Action"], "sqs:SendMessage");
    assert_eq!(
        send["Resource"],
        json!({"Fn::GetAtt": ["CommandQueue", "Arn"]})
    );
    let sources: Vec<Value> = wanted
        .iter()
        .map(|id| json!({"Fn::GetAtt": [id, "Arn"]}))
        .collect();
    assert_eq!(
        send["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": sources}})
    );

    // Without bindings, the template as written.
    let bare = rendered_template(&json!({"rules": []}));
    assert_eq!(bare, template());
    // Nothing else differs.
    let mut stripped = rendered.clone();
    let resources = stripped["Resources"].as_object_mut().unwrap();
    for id in &wanted {
        resources.remove(*id);
    }
    stripped["Resources"]["QueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Sid"] != "BindingRulesSend");
    assert_eq!(stripped, template());
}

/// The rendered template's rules, with the command queue they target and
/// the bus parameter they name, as a stack of their own (moto's
/// CloudFormation makes the rest of the template in
/// `template_moto`).
fn rules_stack(rendered: &Value) -> Value {
    let mut resources: serde_json::Map<String, Value> = rendered["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Events::Rule")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    resources.insert(
        "CommandQueue".into(),
        json!({"Type": "AWS::SQS::Queue", "Properties": {}}),
    );
    json!({
        "Parameters": {"EventBusName": rendered["Parameters"]["EventBusName"]},
        "Resources": resources,
        "Outputs": {"QueueUrl": {"Value": {"Ref": "CommandQueue"}}}
    })
}

/// On moto: the rendered template's rules on a bus of the test's; a
/// provider's `PaymentSucceeded` put on the bus arrives on the command
/// queue as the EventBridge envelope; delivered twice (the bus delivers
/// at least once), the worker applies its `ConfirmCharge` once.
#[tokio::test]
async fn a_provider_event_reaches_the_worker_through_its_rule_and_applies_once() {
    let aws = testkit::aws::AwsStack::new().await;
    let sdk = aws.sdk.clone();
    let events = aws_sdk_eventbridge::Client::new(&sdk);
    let bus = unique_name("bus");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("CreateEventBus");

    let cf = aws_sdk_cloudformation::Client::new(&sdk);
    let stack = unique_name("bound");
    cf.create_stack()
        .stack_name(&stack)
        .template_body(rules_stack(&rendered_template(&bindings_json())).to_string())
        .parameters(
            Parameter::builder()
                .parameter_key("EventBusName")
                .parameter_value(&bus)
                .build(),
        )
        .send()
        .await
        .expect("CreateStack");
    let outputs = wait_for_stack(&cf, &stack)
        .await
        .expect("the stack is made");
    let queue = outputs["QueueUrl"].clone();

    // The rules are on the bus, one per binding.
    let listed = events
        .list_rules()
        .event_bus_name(&bus)
        .send()
        .await
        .expect("ListRules");
    let mut patterns: Vec<Value> = listed
        .rules()
        .iter()
        .map(|r| serde_json::from_str(r.event_pattern().expect("a pattern")).expect("JSON"))
        .collect();
    patterns.sort_by_key(|p| p.to_string());
    let mut wanted: Vec<Value> = bindings_json()["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["eventPattern"].clone())
        .collect();
    wanted.sort_by_key(|p| p.to_string());
    assert_eq!(patterns, wanted);

    // A transfer waiting for the provider.
    let handler = aws.handler();
    let charge = json!({"aggregateType": "payment", "aggregateId": "b-1", "command": "Charge",
                        "payload": {"amount": 40, "currency": "EUR", "method": "transfer"}});
    let placed = handler
        .handle(Batch::standard(vec![InboundMessage::new(
            "m-charge",
            charge.to_string(),
        )]))
        .await;
    assert_eq!(placed.applied(), 1, "{placed:?}");

    let put = events
        .put_events()
        .entries(
            PutEventsRequestEntry::builder()
                .event_bus_name(&bus)
                .source("payments.provider")
                .detail_type("PaymentSucceeded")
                .detail(json!({"orderId": "b-1", "reference": "tr_9"}).to_string())
                .build(),
        )
        .send()
        .await
        .expect("PutEvents");
    assert_eq!(put.failed_entry_count(), 0, "{put:?}");
    let event_id = put.entries()[0].event_id().expect("an event id").to_owned();

    // On the queue: the EventBridge envelope. Put back, and a second copy
    // sent, as a redelivery of the same event would be.
    let sqs = aws.sqs().clone();
    let received = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = received.messages();
    assert_eq!(messages.len(), 1, "one delivery of the event: {messages:?}");
    let body = messages[0].body().expect("a body").to_owned();
    let envelope: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(envelope["id"], event_id.as_str());
    assert_eq!(envelope["source"], "payments.provider");
    assert_eq!(envelope["detail-type"], "PaymentSucceeded");
    assert_eq!(envelope["detail"]["orderId"], "b-1");
    sqs.change_message_visibility()
        .queue_url(&queue)
        .receipt_handle(messages[0].receipt_handle().expect("a handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    sqs.send_message()
        .queue_url(&queue)
        .message_body(&body)
        .send()
        .await
        .expect("SendMessage");

    let worker = sqs_worker::Worker::new(sqs.clone(), &queue, handler).with_wait_time_seconds(0);
    let stats = worker.run_until_empty().await.expect("the worker runs");
    assert_eq!(
        (stats.received, stats.applied, stats.failed),
        (2, 2, 0),
        "{stats:?}"
    );
    let store = worker.handler().store();
    let events = all_events(store, &handler_core::AggregateKey::new("payment", "b-1"))
        .await
        .expect("events");
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["ChargeRequested", "ChargeConfirmed"],
        "applied once"
    );
    assert_eq!(
        events[1].command_id,
        format!("payments.provider/{event_id}")
    );
    assert_eq!(events[1].payload["reference"], "tr_9");
}
