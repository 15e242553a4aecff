//! A fresh AWS stack on moto for one test: a table, a bucket holding the
//! repository's configs, and clients that count their requests.

use aws_config::SdkConfig;
use config_s3::S3ConfigSource;
use handler_core::Handler;
use store_dynamodb::{DynamoStore, create_table};

use crate::moto::{moto, unique_name};
use crate::requests::RequestCounter;
use crate::scenario::config_dir;

/// The prefix configs are uploaded under.
pub const PREFIX: &str = "configs/";

/// One test's resources.
#[derive(Debug, Clone)]
pub struct AwsStack {
    /// SDK config pointing at moto.
    pub sdk: SdkConfig,
    /// The event-store table.
    pub table: String,
    /// The config bucket.
    pub bucket: String,
    /// DynamoDB requests sent by [`AwsStack::store`]'s client.
    pub dynamo_requests: RequestCounter,
    /// S3 requests sent by [`AwsStack::configs`]' client.
    pub s3_requests: RequestCounter,
    dynamo: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
}

impl AwsStack {
    /// Creates the table and the bucket, and uploads every `config/*.json`
    /// under [`PREFIX`].
    pub async fn new() -> Self {
        let sdk = moto().sdk_config().await;
        let dynamo_requests = RequestCounter::default();
        let s3_requests = RequestCounter::default();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk)
                .interceptor(dynamo_requests.clone())
                .build(),
        );
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .interceptor(s3_requests.clone())
                .build(),
        );
        let table = unique_name("events");
        let bucket = unique_name("configs");
        create_table(&dynamo, &table).await.expect("create table");
        s3.create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("create bucket");
        for entry in std::fs::read_dir(config_dir()).expect("config/") {
            let path = entry.expect("config entry").path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).expect("read config");
                config_s3::upload_config(&s3, &bucket, PREFIX, &bytes, None)
                    .await
                    .expect("upload config");
            }
        }
        dynamo_requests.reset();
        s3_requests.reset();
        Self {
            sdk,
            table,
            bucket,
            dynamo_requests,
            s3_requests,
            dynamo,
            s3,
        }
    }

    /// The DynamoDB store on the table (counting client).
    pub fn store(&self) -> DynamoStore {
        DynamoStore::new(self.dynamo.clone(), &self.table)
    }

    /// The S3 config source on the bucket (counting client).
    pub fn configs(&self) -> S3ConfigSource {
        S3ConfigSource::new(self.s3.clone(), &self.bucket, PREFIX)
    }

    /// The handler the Lambda runs, on this stack.
    pub fn handler(&self) -> Handler<DynamoStore, S3ConfigSource> {
        Handler::new(self.store(), self.configs())
    }

    /// The raw DynamoDB client (counting).
    pub fn dynamo(&self) -> &aws_sdk_dynamodb::Client {
        &self.dynamo
    }

    /// The raw S3 client (counting).
    pub fn s3(&self) -> &aws_sdk_s3::Client {
        &self.s3
    }
}
