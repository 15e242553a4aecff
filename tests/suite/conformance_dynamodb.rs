//! The event-store conformance suite, on DynamoDB (moto), each check on a
//! fresh table. The long history is padded so its events exceed 1 MB (about
//! 1.2 MB in 60 events): moto, like DynamoDB, cuts a Query page at 1 MB, so
//! the store must follow `LastEvaluatedKey` to read it whole. (Few, fat
//! events: moto copies the whole table on every transaction.)

use store_dynamodb::{DynamoStore, create_table};
use testkit::moto::{moto, unique_name};

async fn fresh_store() -> DynamoStore {
    let config = moto().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("conformance");
    create_table(&client, &table).await.expect("create table");
    DynamoStore::new(client, table)
}

testkit::event_store_conformance!(dynamodb, fresh_store(), history = 60, pad = 20_000);
