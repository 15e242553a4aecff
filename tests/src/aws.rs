//! A fresh AWS stack on moto for one test: a table, a bucket holding the
//! repository's configs, and clients that count their requests.

use aws_config::SdkConfig;
use batch_handler::Handler;
use config_s3::S3ConfigSource;
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
    sqs: aws_sdk_sqs::Client,
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
            sqs: aws_sdk_sqs::Client::new(&sdk),
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
        DynamoStore::new(
            self.dynamo.clone(),
            &self.table,
            std::sync::Arc::new(handler_core::SystemClock),
        )
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

    /// An SQS client (not counting).
    pub fn sqs(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    /// A fresh queue and its dead-letter queue (`NAME-dlq`, retention 14
    /// days) with the redrive policy of the README (maxReceiveCount 10);
    /// FIFO when `fifo`. Returns (queue URL, DLQ URL).
    pub async fn queues(&self, visibility_timeout: u32, fifo: bool) -> (String, String) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let suffix = if fifo { ".fifo" } else { "" };
        let name = unique_name("q");
        let create = |name: String, attributes: Vec<(A, String)>| {
            let mut request = self.sqs.create_queue().queue_name(name);
            if fifo {
                request = request.attributes(A::FifoQueue, "true");
            }
            for (k, v) in attributes {
                request = request.attributes(k, v);
            }
            async move {
                request
                    .send()
                    .await
                    .expect("CreateQueue")
                    .queue_url()
                    .expect("a queue URL")
                    .to_owned()
            }
        };
        let dlq = create(
            format!("{name}-dlq{suffix}"),
            vec![(A::MessageRetentionPeriod, "1209600".into())],
        )
        .await;
        let arn = self
            .queue_attribute(&dlq, A::QueueArn)
            .await
            .expect("the DLQ's ARN");
        let redrive = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":10}}"#);
        let queue = create(
            format!("{name}{suffix}"),
            vec![
                (A::RedrivePolicy, redrive),
                (A::VisibilityTimeout, visibility_timeout.to_string()),
            ],
        )
        .await;
        (queue, dlq)
    }

    /// One attribute of a queue.
    pub async fn queue_attribute(
        &self,
        url: &str,
        name: aws_sdk_sqs::types::QueueAttributeName,
    ) -> Option<String> {
        self.sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes()
            .and_then(|a| a.get(&name))
            .cloned()
    }

    /// (visible, in flight) messages of a queue; panics when moto leaves
    /// either count out.
    pub async fn depth(&self, url: &str) -> (u64, u64) {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let count = |name: A, value: Option<String>| {
            value
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{url}: no {name}"))
        };
        (
            count(
                A::ApproximateNumberOfMessages,
                self.queue_attribute(url, A::ApproximateNumberOfMessages)
                    .await,
            ),
            count(
                A::ApproximateNumberOfMessagesNotVisible,
                self.queue_attribute(url, A::ApproximateNumberOfMessagesNotVisible)
                    .await,
            ),
        )
    }

    /// Sends one command body; with a `group` (FIFO queues) the command id
    /// is the deduplication id, as `cmdctl send` does. Returns the message
    /// id.
    pub async fn send(&self, url: &str, body: &serde_json::Value, group: Option<&str>) -> String {
        let mut send = self
            .sqs
            .send_message()
            .queue_url(url)
            .message_body(body.to_string());
        if let Some(group) = group {
            send = send
                .message_group_id(group)
                .message_deduplication_id(body["commandId"].as_str().expect("a commandId"));
        }
        send.send()
            .await
            .expect("SendMessage")
            .message_id()
            .expect("a message id")
            .to_owned()
    }
}

/// Creates a table of the older layout (table layout 1's keys, `pk` + `sk`, and no
/// `by-command` index), which the binaries' table check refuses; returns
/// its name.
pub async fn older_layout_table(dynamo: &aws_sdk_dynamodb::Client) -> String {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let table = unique_name("layout1");
    let attribute = |name: &str, kind| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(kind)
            .build()
            .expect("attribute")
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("key")
    };
    dynamo
        .create_table()
        .table_name(&table)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create the older-layout table");
    table
}
