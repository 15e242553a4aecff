//! EventBridge on moto: a bus of the test's own with a rule whose target is
//! an SQS queue, so that a test can read what was published (moto delivers
//! `PutEvents` to SQS targets; the body is the EventBridge envelope with
//! `source`, `detail-type` and `detail`). A bus per test: moto's default bus
//! is shared by every test of the process, and so would be their rules.

use aws_config::SdkConfig;
use serde_json::Value;

use crate::moto::unique_name;

/// A new bus, and a queue receiving every event on it whose source starts
/// with `source_prefix`. Returns (the bus's name, the queue's URL).
pub async fn bus_to_queue(sdk: &SdkConfig, source_prefix: &str) -> (String, String) {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let queue = sqs
        .create_queue()
        .queue_name(unique_name("published"))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("a queue URL")
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("the queue's ARN")
        .clone();
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let bus = unique_name("bus");
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("CreateEventBus");
    let rule = unique_name("to-queue");
    let pattern = serde_json::json!({ "source": [{ "prefix": source_prefix }] });
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("PutRule");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .expect("a target"),
        )
        .send()
        .await
        .expect("PutTargets");
    (bus, queue)
}

/// Every message on the queue now (bodies parsed as JSON), deleted as read.
pub async fn drain(sdk: &SdkConfig, queue: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("ReceiveMessage");
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("a JSON body"));
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
}
