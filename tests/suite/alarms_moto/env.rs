//! The processor the function builds from its environment
//! (`processor_lambda::lambda_processor`), on moto: with the four schedule
//! variables it schedules a later alarm; without them, the event stays
//! unfinished with a reason naming the variable, and the Lambda's answer
//! names its record, so the stream retries it.

use lambda_dynamodb_stream::records::source_records;
use testkit::stream::StreamReader;

use super::rig::{AlarmRig, ROLE_ARN, from_now, start};

async fn processor(rig: &AlarmRig, with_schedules: bool) -> processor_lambda::LambdaProcessor {
    let env = processor_lambda::ProcessorEnv::from_lookup(|name| match name {
        "DYNAMO_TABLE_NAME" => Some(rig.rig.stack.table.clone()),
        "S3_BUCKET_NAME" => Some(rig.rig.stack.bucket.clone()),
        "S3_CONFIG_PREFIX" => Some(testkit::aws::PREFIX.to_owned()),
        "COMMAND_QUEUE_URL" => Some(rig.rig.commands.clone()),
        "EVENT_BUS_NAME" => Some(rig.rig.bus.clone()),
        "SCHEDULE_GROUP_NAME" if with_schedules => Some(rig.group.clone()),
        "SCHEDULER_ROLE_ARN" if with_schedules => Some(ROLE_ARN.to_owned()),
        "COMMAND_QUEUE_ARN" if with_schedules => Some(rig.queue_arn.clone()),
        "SCHEDULE_DLQ_ARN" if with_schedules => Some(rig.dlq_arn.clone()),
        _ => None,
    })
    .expect("the processor's environment");
    processor_lambda::lambda_processor(
        &env,
        testkit::moto::loader(testkit::moto::moto().endpoint()),
    )
    .await
}

#[tokio::test]
async fn the_function_schedules_with_its_variables_and_names_the_one_missing() {
    let mut rig = AlarmRig::new().await;
    rig.rig.apply(&[start("t-1", &from_now(7200))]).await;
    let records = rig.rig.stream.read().await;
    let sequence = records[0]["dynamodb"]["SequenceNumber"]
        .as_str()
        .expect("a SequenceNumber")
        .to_owned();

    let bare = processor(&rig, false).await;
    let report = bare
        .process(source_records(&StreamReader::event(&records)).expect("a stream event"))
        .await;
    let event_processor::Outcome::Unfinished { reason } = &report.outcomes[0].outcome else {
        panic!("{report:?}")
    };
    // Both `ring` and the year-long `expiry` need one; the first refused names it.
    assert_eq!(
        reason,
        "alarm not delivered: alarm `expiry` needs a schedule (it is due in more than 15 \
         minutes) but SCHEDULE_GROUP_NAME is not set"
    );
    let answer = crate::processor::harness::stream_answer(&bare, &records).await;
    let named = crate::processor::harness::unfinished(&answer);
    assert_eq!(named, [Some(sequence)], "the stream retries the record");
    assert!(rig.schedule_names().await.is_empty());

    let configured = processor(&rig, true).await;
    let answer = crate::processor::harness::stream_answer(&configured, &records).await;
    assert!(answer.batch_item_failures.is_empty(), "{answer:?}");
    assert_eq!(rig.schedule_names().await.len(), 2, "ring and expiry");
}
