//! Each resource the stack made, read back through its service's API.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::TableDescription;
use serde_json::{Value, json};
use testkit::moto::unique_name;

use crate::deploy::queue_attributes;

use super::Expect;

pub(super) async fn queue_arn(sdk: &SdkConfig, url: &str) -> String {
    queue_attributes(sdk, url)
        .await
        .remove("QueueArn")
        .expect("QueueArn")
}

pub(super) async fn check_queues(sdk: &SdkConfig, queue: &str, dlq: &str, expect: &Expect) {
    let queue = queue_attributes(sdk, queue).await;
    let dlq = queue_attributes(sdk, dlq).await;
    let redrive: Value =
        serde_json::from_str(&queue["RedrivePolicy"]).expect("RedrivePolicy is JSON");
    assert_eq!(redrive["deadLetterTargetArn"], json!(dlq["QueueArn"]));
    let receives = &redrive["maxReceiveCount"];
    assert!(
        receives == &json!(10) || receives == &json!("10"),
        "maxReceiveCount 10, got {receives}"
    );
    let visibility: i32 = queue["VisibilityTimeout"].parse().expect("a number");
    assert!(
        visibility >= 6 * expect.function_timeout,
        "visibility {visibility} s < 6 x the function's {} s",
        expect.function_timeout
    );
    assert_eq!(
        dlq["MessageRetentionPeriod"], "1209600",
        "the DLQ keeps 14 days"
    );
}

/// Checks the stack's table against the one `store_dynamodb::create_table`
/// makes (the code's own definition), and returns its ARN.
pub(super) async fn check_table(sdk: &SdkConfig, table: &str) -> String {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let reference = unique_name("reference");
    store_dynamodb::create_table(&dynamo, &reference)
        .await
        .expect("create the reference table");
    let describe = |name: String| {
        let dynamo = dynamo.clone();
        async move {
            dynamo
                .describe_table()
                .table_name(name)
                .send()
                .await
                .expect("DescribeTable")
                .table()
                .cloned()
                .expect("a table")
        }
    };
    let ours = describe(table.to_owned()).await;
    let code = describe(reference).await;
    assert_eq!(
        shape(&ours),
        shape(&code),
        "template table = create_table's"
    );
    assert_eq!(
        ours.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
    );
    let stream = ours.stream_specification().expect("a stream");
    assert!(stream.stream_enabled());
    assert_eq!(
        stream.stream_view_type(),
        Some(&aws_sdk_dynamodb::types::StreamViewType::NewImage)
    );
    let listing = ours
        .global_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some(store_dynamodb::items::LISTING_INDEX))
        .expect("the aggregates-by-type index");
    assert_eq!(
        listing.projection().and_then(|p| p.projection_type()),
        Some(&aws_sdk_dynamodb::types::ProjectionType::KeysOnly)
    );
    let by_command = ours
        .local_secondary_indexes()
        .iter()
        .find(|i| i.index_name() == Some(store_dynamodb::items::COMMAND_INDEX))
        .expect("the by-command index");
    let projection = by_command.projection().expect("a projection");
    assert_eq!(
        projection.projection_type(),
        Some(&aws_sdk_dynamodb::types::ProjectionType::Include)
    );
    assert_eq!(projection.non_key_attributes(), ["fingerprint"]);
    ours.table_arn().expect("a table ARN").to_owned()
}

/// Keys, attribute types, indexes and stream of a table, comparable.
pub(super) fn shape(t: &TableDescription) -> String {
    let mut attributes: Vec<String> = t
        .attribute_definitions()
        .iter()
        .map(|a| format!("{}:{:?}", a.attribute_name(), a.attribute_type()))
        .collect();
    attributes.sort();
    let keys = |k: &[aws_sdk_dynamodb::types::KeySchemaElement]| {
        k.iter()
            .map(|k| format!("{}:{:?}", k.attribute_name(), k.key_type()))
            .collect::<Vec<_>>()
    };
    let index = |name: Option<&str>,
                 key_schema: &[aws_sdk_dynamodb::types::KeySchemaElement],
                 projection: Option<&aws_sdk_dynamodb::types::Projection>| {
        let mut non_key: Vec<&String> = projection
            .map(|p| p.non_key_attributes().iter().collect())
            .unwrap_or_default();
        non_key.sort();
        format!(
            "{name:?} {:?} {:?} {non_key:?}",
            keys(key_schema),
            projection.and_then(|p| p.projection_type())
        )
    };
    let mut indexes: Vec<String> = t
        .global_secondary_indexes()
        .iter()
        .map(|i| index(i.index_name(), i.key_schema(), i.projection()))
        .chain(t.local_secondary_indexes().iter().map(|i| {
            format!(
                "local {}",
                index(i.index_name(), i.key_schema(), i.projection())
            )
        }))
        .collect();
    indexes.sort();
    format!(
        "attributes {attributes:?}\nkeys {:?}\nindexes {indexes:?}\nstream {:?}",
        keys(t.key_schema()),
        t.stream_specification()
            .map(|s| (s.stream_enabled(), s.stream_view_type().cloned()))
    )
}

pub(super) async fn check_bucket(sdk: &SdkConfig, bucket: &str) {
    let s3 = aws_sdk_s3::Client::new(sdk);
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .expect("GetBucketEncryption: the config bucket is encrypted");
    let algorithm = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().clone());
    assert_eq!(
        algorithm,
        Some(aws_sdk_s3::types::ServerSideEncryption::Aes256)
    );
    // moto 5.2 drops PublicAccessBlockConfiguration from CloudFormation; when
    // an emulator keeps it, it must block everything (the template's own
    // declaration is checked in `the_template_declares_what_moto_skips`).
    if let Ok(block) = s3.get_public_access_block().bucket(bucket).send().await {
        let c = block
            .public_access_block_configuration()
            .expect("a configuration");
        assert_eq!(
            (
                c.block_public_acls(),
                c.ignore_public_acls(),
                c.block_public_policy(),
                c.restrict_public_buckets()
            ),
            (Some(true), Some(true), Some(true), Some(true))
        );
    }
}
