//! `sqs_dead_letter::create` and `config_s3::create_bucket` (what `cmdctl
//! setup` calls) against moto: the queue redrives to its DLQ after 10
//! receives, the DLQ keeps a message 14 days, and running again changes
//! nothing but the attributes asked for.

use aws_sdk_sqs::types::QueueAttributeName as A;
use serde_json::Value;
use sqs_dead_letter::create::{
    DLQ_RETENTION_SECONDS, MAX_RECEIVE_COUNT, QueueNames, create_queues,
};
use sqs_dead_letter::queues;
use testkit::aws::AwsStack;
use testkit::moto::unique_name;

#[tokio::test]
async fn the_queues_are_made_with_their_redrive_policy_and_made_again_idempotently() {
    let aws = AwsStack::new().await;
    let sqs = aws.sqs();
    for fifo in [false, true] {
        let names = QueueNames::new(&unique_name("setup"), fifo);
        let made = create_queues(sqs, &names, 30).await.expect("created");
        assert_eq!(queues::queue_name(&made.queue_url), names.queue);
        assert_eq!(queues::queue_name(&made.dlq_url), names.dlq);
        assert_eq!(
            queues::dead_letter_queue_of(sqs, &made.queue_url)
                .await
                .expect("a redrive policy"),
            made.dlq_url
        );
        let policy: Value = serde_json::from_str(
            &aws.queue_attribute(&made.queue_url, A::RedrivePolicy)
                .await
                .expect("a redrive policy"),
        )
        .expect("JSON");
        assert_eq!(
            policy["maxReceiveCount"].as_u64(),
            Some(u64::from(MAX_RECEIVE_COUNT))
        );
        assert_eq!(
            aws.queue_attribute(&made.dlq_url, A::MessageRetentionPeriod)
                .await,
            Some(DLQ_RETENTION_SECONDS.to_string())
        );
        assert_eq!(
            aws.queue_attribute(&made.queue_url, A::VisibilityTimeout)
                .await,
            Some("30".to_owned())
        );
        // Again, with another visibility timeout: the same queues, updated.
        let again = create_queues(sqs, &names, 45).await.expect("made again");
        assert_eq!(again, made, "fifo {fifo}");
        assert_eq!(
            aws.queue_attribute(&made.queue_url, A::VisibilityTimeout)
                .await,
            Some("45".to_owned())
        );
    }
}

#[tokio::test]
async fn the_bucket_is_made_once_and_made_again_without_error() {
    let aws = AwsStack::new().await;
    let bucket = unique_name("setup-bucket");
    config_s3::create_bucket(aws.s3(), &bucket, Some("us-east-1"))
        .await
        .expect("created");
    config_s3::create_bucket(aws.s3(), &bucket, None)
        .await
        .expect("already ours: no error");
    aws.s3()
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the bucket exists");
}
