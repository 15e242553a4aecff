//! Creating the event-store table: `pk` (S) + `sk` (N), on demand, with a
//! stream of new images, TTL on the records' `expiresAt`, and the sparse
//! index `heads-by-type` (`headType` + `headId`) that lists aggregates, and
//! the local secondary index `by-command` (`pk` + `commandId`) of layout 2
//! that [`crate::DynamoStore::check_table`] requires.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableStatus, TimeToLiveSpecification,
};

use dynamodb_layout::COMMAND_INDEX;

use crate::errors::DynamoError;
use crate::items::{HEADS_INDEX, TTL_ATTRIBUTE};

/// Creates the table if it does not exist, waits until it is active, and
/// turns TTL on. Safe to call again.
pub async fn create_table(client: &Client, table: &str) -> Result<(), DynamoError> {
    let build = |e: aws_sdk_dynamodb::error::BuildError| DynamoError(e.to_string());
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .map_err(build)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .map_err(build)?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .map_err(build)?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("headType")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("headId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(HEADS_INDEX)
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("headType")
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(build)?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("headId")
                        .key_type(KeyType::Range)
                        .build()
                        .map_err(build)?,
                )
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("state")
                        .non_key_attributes("version")
                        .build(),
                )
                .build()
                .map_err(build)?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("commandId")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build)?,
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(COMMAND_INDEX)
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("pk")
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(build)?,
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("commandId")
                        .key_type(KeyType::Range)
                        .build()
                        .map_err(build)?,
                )
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("fingerprint")
                        .build(),
                )
                .build()
                .map_err(build)?,
        )
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(build)?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(DynamoError::sdk(&e)),
    }

    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| DynamoError::sdk(&e))?;
        if described.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let ttl = client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(TTL_ATTRIBUTE)
                .build()
                .map_err(build)?,
        )
        .send()
        .await;
    match ttl {
        Ok(_) => Ok(()),
        // Already enabled (AWS says so with a ValidationException).
        Err(e) if DynamoError::sdk(&e).0.contains("already enabled") => Ok(()),
        Err(e) => Err(DynamoError::sdk(&e)),
    }
}
