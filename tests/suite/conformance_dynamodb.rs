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
    DynamoStore::new(
        client,
        table,
        std::sync::Arc::new(handler_core::SystemClock),
    )
}

testkit::event_store_conformance!(dynamodb, fresh_store(), history = 60, pad = 20_000);

/// What a commit writes on DynamoDB, read back from the table: a
/// single-command commit is one item, sized exactly as `dynamodb-layout`
/// counts it, under 1 KB for a small command, so 1 WRU for the item and 1 for
/// its `by-command` entry (docs/cost.md); the aggregate's first event also
/// carries the listing keys (1 WRU more, once), its later ones do not. Each
/// is one `PutItem` after a `Query` for the head and, when there is one, a
/// `Query` for the command id.
#[tokio::test]
async fn a_single_command_commit_writes_one_small_item() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use dynamodb_layout::items::{list_shard, list_shard_of};
    use dynamodb_layout::size::{command_index_entry_bytes, number_bytes, write_units};
    use handler_core::state_machine::AggregateState;
    use handler_core::{AggregateKey, CommandRecord, EventStore, all_events};
    use serde_json::{Map, Value, json};

    let stack = testkit::aws::AwsStack::new().await;
    let handler = stack.handler();
    let store = stack.store();
    // A ticket: a type without alarms (the order's `CreateOrder` sets its
    // reservation timeout, whose bytes docs/cost.md counts apart).
    let key = AggregateKey::new("ticket", "t-bytes-1");
    let bodies = [
        json!({"commandId": "c-bytes-1", "aggregateType": "ticket", "aggregateId": "t-bytes-1",
               "command": "OpenTicket", "payload": {"title": "tea"},
               "metadata": {"correlationId": "corr-1", "userId": "u-42"}}),
        json!({"commandId": "c-bytes-2", "aggregateType": "ticket", "aggregateId": "t-bytes-1",
               "command": "Comment", "payload": {"text": "hi"},
               "metadata": {"correlationId": "corr-1", "userId": "u-42"}}),
    ];
    // The aggregate's alarms as its events leave them (the order's
    // reservation timeout: set by `CreateOrder`, cleared by `ReserveItem`).
    let mut alarms = handler_core::state_machine::Alarms::default();
    for (version, body) in (1u64..).zip(&bodies) {
        stack.dynamo_requests.reset();
        let report = handler
            .handle(handler_core::Batch::standard(vec![
                handler_core::InboundMessage::new(format!("m{version}"), body.to_string()),
            ]))
            .await;
        assert!(report.failed_message_ids().is_empty(), "{report:#?}");
        // The head; then, on an aggregate that has one, the command's id.
        let want: &[&str] = if version == 1 {
            &["Query", "PutItem"]
        } else {
            &["Query", "Query", "PutItem"]
        };
        assert_eq!(stack.dynamo_requests.sent(), want, "command {version}");

        let scan = stack
            .dynamo()
            .scan()
            .table_name(&stack.table)
            .consistent_read(true)
            .send()
            .await
            .expect("Scan");
        assert_eq!(
            scan.items().len() as u64,
            version,
            "one item per command, nothing else: {:?}",
            scan.items()
        );
        let item = scan
            .items()
            .iter()
            .find(|i| i.get("sk") == Some(&AttributeValue::N(version.to_string())))
            .expect("the new event's item");
        // Its size by DynamoDB's rule, from what the table holds.
        let stored_bytes: usize = item
            .iter()
            .map(|(name, value)| {
                name.len()
                    + match value {
                        AttributeValue::S(s) => s.len(),
                        AttributeValue::N(n) => number_bytes(n.parse().expect("whole number")),
                        other => panic!("{name} is neither S nor N: {other:?}"),
                    }
            })
            .sum();
        // The layout's count of the same command.
        let event = all_events(&store, &key)
            .await
            .expect("events")
            .remove(version as usize - 1);
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(s)) => s.clone(),
            other => panic!("{name}: {other:?}"),
        };
        let record = CommandRecord {
            command_id: event.command_id.clone(),
            key: key.clone(),
            fingerprint: text("fingerprint"),
            version,
        };
        let data: Map<String, Value> = serde_json::from_str(&text("data")).expect("data");
        let mut after = AggregateState {
            alarms: alarms.clone(),
            state: event.state.clone(),
            version,
            data,
        };
        if let Some(changes) = &event.alarms {
            after.apply_alarms(changes);
        }
        alarms = after.alarms.clone();
        let counted = store.sizing().command(&key, &event, &record, &after);
        assert_eq!(counted.items, 1);
        assert_eq!(
            counted.bytes, stored_bytes,
            "the layout counts what is stored"
        );
        assert!(stored_bytes < 1024, "{stored_bytes} bytes");
        let index_bytes = command_index_entry_bytes(&key, &event, &record);
        let wru = write_units(stored_bytes) + write_units(index_bytes);
        assert!(wru <= 2, "{wru} WRU");
        let listed = version == 1;
        assert_eq!(item.contains_key("listShard"), listed, "command {version}");
        assert_eq!(item.contains_key("listId"), listed, "command {version}");
        if listed {
            let shard = list_shard("ticket", list_shard_of("t-bytes-1"));
            assert_eq!(text("listShard"), shard);
            assert_eq!(text("listId"), "t-bytes-1");
        }
        eprintln!(
            "command {version}: 1 item of {stored_bytes} bytes, by-command entry {index_bytes} bytes: \
             {wru} WRU{}",
            if listed { " + 1 listing entry" } else { "" }
        );
    }
}

/// What the store dates itself is read from its clock: a checkpoint's
/// `savedAt` and a failure record's `expiresAt` (the clock's second plus
/// the failure TTL), read back from the table.
#[tokio::test]
async fn what_the_store_dates_itself_is_read_from_its_clock() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use handler_core::{Checkpoints, FailureLog, FailureRecord, FixedClock};

    let at: handler_core::state_machine::Timestamp = "2031-04-05T06:07:08.901Z".parse().unwrap();
    let config = moto().sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("dated");
    create_table(&client, &table).await.expect("create table");
    let store = DynamoStore::new(
        client.clone(),
        table.clone(),
        std::sync::Arc::new(FixedClock(at)),
    );
    store
        .save_checkpoint("replay", "0:1:o-1")
        .await
        .expect("checkpoint");
    store
        .record_failures(&[FailureRecord {
            message_id: "m-dated".into(),
            aggregate: None,
            command: None,
            command_id: None,
            code: "invalid_json".into(),
            reason: "not JSON".into(),
            permanent: true,
            receive_count: Some(1),
            failed_at: "2031-04-05T06:07:08.901Z".into(),
        }])
        .await
        .expect("failure record");
    let item = |pk: &'static str| {
        let (client, table) = (client.clone(), table.clone());
        async move {
            client
                .get_item()
                .table_name(table)
                .key("pk", AttributeValue::S(pk.into()))
                .key("sk", AttributeValue::N("0".into()))
                .consistent_read(true)
                .send()
                .await
                .expect("get item")
                .item
                .unwrap_or_else(|| panic!("no item {pk}"))
        }
    };
    let checkpoint = item("#checkpoint#replay").await;
    assert_eq!(
        checkpoint.get("savedAt"),
        Some(&AttributeValue::S("2031-04-05T06:07:08.901Z".into()))
    );
    let failure = item("#failure#m-dated").await;
    let expires = at.as_second() as u64 + store_dynamodb::DEFAULT_FAILURE_TTL.as_secs();
    assert_eq!(
        failure.get(store_dynamodb::items::TTL_ATTRIBUTE),
        Some(&AttributeValue::N(expires.to_string()))
    );
}

/// A DynamoDB failure keeps the SDK's error as the source of the store's
/// error (and of an append's), not only its text.
#[tokio::test]
async fn a_store_error_keeps_the_sdk_error_as_its_source() {
    use handler_core::{AggregateKey, EventStore};

    let config = moto().sdk_config().await;
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        unique_name("no-such-table"),
        std::sync::Arc::new(handler_core::SystemClock),
    );
    let err = store
        .load(&AggregateKey::new("order", "o-1"), &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, handler_core::StoreError::Unavailable { .. }),
        "{err:?}"
    );
    let source = std::error::Error::source(&err).expect("the SDK's error as the source");
    let chain = test_doubles::error_chain(source);
    assert!(chain.contains("ResourceNotFound"), "{chain}");
}
