//! Creating the event-store table: `pk` (S) + `sk` (N), on demand, with a
//! stream of new images, TTL on the failure records' `expiresAt`, the local
//! index `by-command` (`pk` + `commandId`, projecting `fingerprint`) that finds
//! a command within its aggregate, and the sparse index `aggregates-by-type`
//! (`listShard` + `listId`, keys only) that lists aggregates.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType, StreamSpecification,
    StreamViewType, TableStatus, TimeToLiveSpecification,
};

use crate::errors::DynamoError;
use crate::items::{COMMAND_INDEX, LISTING_INDEX, TTL_ATTRIBUTE};

/// The table's request without its stream: keys, indexes, on demand. What
/// [`create_table`] sends, with a stream added; a test on an emulator that
/// copies stream records on every transaction may send it as it is.
pub fn table_definition(
    client: &Client,
    table: &str,
) -> Result<CreateTableFluentBuilder, DynamoError> {
    let build = DynamoError::build;
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(build)
    };
    let key_element = |name: &str, key_type: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .map_err(build)
    };
    Ok(client
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
        .attribute_definitions(attribute("commandId")?)
        .attribute_definitions(attribute("listShard")?)
        .attribute_definitions(attribute("listId")?)
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name(COMMAND_INDEX)
                .key_schema(key_element("pk", KeyType::Hash)?)
                .key_schema(key_element("commandId", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("fingerprint")
                        .build(),
                )
                .build()
                .map_err(build)?,
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(LISTING_INDEX)
                .key_schema(key_element("listShard", KeyType::Hash)?)
                .key_schema(key_element("listId", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .map_err(build)?,
        )
        .billing_mode(BillingMode::PayPerRequest))
}

/// Creates the table if it does not exist, waits until it is active, and
/// turns TTL on. Safe to call again.
pub async fn create_table(client: &Client, table: &str) -> Result<(), DynamoError> {
    let build = DynamoError::build;
    let created = table_definition(client, table)?
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
        Err(e) => return Err(DynamoError::sdk(e)),
    }

    for _ in 0..120 {
        let described = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(DynamoError::sdk)?;
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
        Err(e) if sdk_error::describe(&e).contains("already enabled") => Ok(()),
        Err(e) => Err(DynamoError::sdk(e)),
    }
}
