//! The fault proxy against moto, without the handler: each fault kind,
//! injected at most twice in a row, is retried away by the SDK on each of
//! the services the handler uses; three in a row reach the caller.

use aws_config::SdkConfig;
use testkit::fault_proxy::{FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};

/// Each fault kind, injected at most twice in a row, is retried away by the
/// SDK's default retry (standard, 3 attempts) on each of the three services
/// the handler uses; three in a row reach the caller as that fault.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_retries_every_injected_fault() {
    let base = moto().sdk_config().await;
    let table = unique_name("proxy-retry");
    let dynamo = aws_sdk_dynamodb::Client::new(&base);
    store_dynamodb::create_table(&dynamo, &table)
        .await
        .expect("create table");
    let kinds = [
        ("500", plan(1.0, 0.0, 0.0)),
        ("throttle", plan(0.0, 1.0, 0.0)),
        ("drop", plan(0.0, 0.0, 1.0)),
    ];
    let (base, table) = (&base, &table);
    let mut cases = Vec::new();
    for (kind, plan) in &kinds {
        for service in ["dynamodb", "sqs", "s3"] {
            for faults in [2, 3] {
                cases.push((*kind, plan, service, faults));
            }
        }
    }
    let checks = cases
        .into_iter()
        .map(|(kind, plan, service, faults)| async move {
            let plan = FaultPlan {
                max_faults: Some(faults),
                ..plan.clone()
            };
            let proxy = FaultProxy::start(moto().endpoint(), plan).await;
            let sdk = base.to_builder().endpoint_url(proxy.endpoint()).build();
            let outcome = match service {
                "dynamodb" => dynamo_put(&sdk, table).await,
                "sqs" => sqs_list(&sdk).await,
                _ => s3_list(&sdk).await,
            };
            (kind, service, faults, outcome, proxy.stats())
        });
    for (kind, service, faults, outcome, stats) in futures::future::join_all(checks).await {
        eprintln!("{kind} x{faults} on {service}: {outcome:?}; {stats:?}");
        let injected = stats.error_500 + stats.throttled + stats.dropped;
        assert_eq!(
            (injected, stats.requests),
            (faults, faults.max(3)),
            "{kind} x{faults} on {service}: one fault per attempt: {stats:?}"
        );
        if faults == 2 {
            assert_eq!(outcome, Ok(()), "{kind} x{faults} on {service}");
            continue;
        }
        let seen = outcome.expect_err("three faults in a row fail the call");
        let expected = match (kind, service) {
            ("500", "s3") => "service InternalError",
            ("500", _) => "service InternalServerError",
            ("throttle", "s3") => "service SlowDown",
            ("throttle", _) => "service ThrottlingException",
            _ => "dispatch",
        };
        assert!(
            seen.starts_with(expected),
            "{kind} x{faults} on {service}: {seen}"
        );
    }
}

fn plan(error_500: f64, throttle: f64, drop_after_forward: f64) -> FaultPlan {
    FaultPlan {
        seed: 7,
        error_500,
        throttle,
        drop_after_forward,
        ..FaultPlan::default()
    }
}

async fn dynamo_put(sdk: &SdkConfig, table: &str) -> Result<(), String> {
    use aws_sdk_dynamodb::types::AttributeValue;
    aws_sdk_dynamodb::Client::new(sdk)
        .put_item()
        .table_name(table)
        .item("pk", AttributeValue::S("proxy#retry".into()))
        .item("sk", AttributeValue::N("0".into()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| describe(&e))
}

async fn sqs_list(sdk: &SdkConfig) -> Result<(), String> {
    aws_sdk_sqs::Client::new(sdk)
        .list_queues()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| describe(&e))
}

async fn s3_list(sdk: &SdkConfig) -> Result<(), String> {
    aws_sdk_s3::Client::new(sdk)
        .list_buckets()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| describe(&e))
}

/// How an SDK error looks: `service <code>`, `io`, `transient`, ...
fn describe<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    use aws_sdk_dynamodb::error::SdkError;
    match error {
        SdkError::ServiceError(e) => {
            format!("service {}", e.err().code().unwrap_or("(no code)"))
        }
        SdkError::DispatchFailure(e) if e.is_io() => "dispatch io".to_owned(),
        SdkError::DispatchFailure(e) if e.is_timeout() => "dispatch timeout".to_owned(),
        SdkError::DispatchFailure(e) => format!(
            "dispatch other {:?}",
            e.as_other().map(|kind| format!("{kind:?}"))
        ),
        SdkError::ResponseError(_) => "response error".to_owned(),
        SdkError::TimeoutError(_) => "timeout".to_owned(),
        _ => "other".to_owned(),
    }
}
