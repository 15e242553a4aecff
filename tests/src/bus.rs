//! EventBridge on moto: a rule on the default bus whose target is an SQS
//! queue, so that a test can read what was published (moto delivers
//! `PutEvents` to SQS targets; the body is the EventBridge envelope with
//! `source`, `detail-type` and `detail`).

use aws_config::SdkConfig;
use serde_json::Value;

use crate::moto::unique_name;

/// A queue receiving every event whose source starts with `source_prefix`
/// on the default bus. Returns the queue's URL.
pub async fn rule_to_queue(sdk: &SdkConfig, source_prefix: &str) -> String {
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
    let rule = unique_name("to-queue");
    let pattern = serde_json::json!({ "source": [{ "prefix": source_prefix }] });
    events
        .put_rule()
        .name(&rule)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("PutRule");
    events
        .put_targets()
        .rule(&rule)
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
    queue
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
