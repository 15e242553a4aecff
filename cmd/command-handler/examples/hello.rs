//! A hello-world `lambda_runtime` function, the floor `bootstrap`'s init is
//! compared with (BENCHMARKS.md, "Init and first batch"): the same runtime,
//! the same event type and profile, no clients and no handler. It answers
//! every SQS event with nothing. An example, so the Lambda's own build
//! (`--bin bootstrap`) never compiles it:
//! `cargo build --release -p command-handler --example hello`.
#![forbid(unsafe_code)]

use lambda_runtime::{LambdaEvent, service_fn};
use lambda_sqs::SqsEvent;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<SqsEvent>| async {
        Ok::<(), lambda_runtime::Error>(())
    }))
    .await
}
