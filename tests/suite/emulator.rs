//! The harness itself: moto starts, and the SDK reaches it.

use testkit::moto::moto;

#[tokio::test]
async fn the_sdk_reaches_moto() {
    let config = moto().sdk_config().await;
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    dynamo
        .list_tables()
        .send()
        .await
        .expect("ListTables against moto");
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.list_buckets()
        .send()
        .await
        .expect("ListBuckets against moto");
    let sqs = aws_sdk_sqs::Client::new(&config);
    sqs.list_queues()
        .send()
        .await
        .expect("ListQueues against moto");
}
