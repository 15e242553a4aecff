//! Counting the requests a client really sends (retries included), with an
//! SDK interceptor: how tests assert what a batch costs, never how long it
//! takes.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Records the operation name of every request sent through the clients it
/// is installed on.
///
/// ```
/// # async fn demo(sdk: &aws_config::SdkConfig) {
/// let counter = testkit::requests::RequestCounter::default();
/// let config = aws_sdk_dynamodb::config::Builder::from(sdk)
///     .interceptor(counter.clone())
///     .build();
/// let client = aws_sdk_dynamodb::Client::from_conf(config);
/// # let _ = client;
/// assert_eq!(counter.count("TransactWriteItems"), 0);
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    sent: Arc<Mutex<Vec<String>>>,
}

impl RequestCounter {
    /// How many requests of this operation were sent.
    pub fn count(&self, operation: &str) -> usize {
        self.sent().iter().filter(|op| *op == operation).count()
    }

    /// Every operation sent, in order.
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("counter lock").clone()
    }

    /// Forgets what was counted so far.
    pub fn reset(&self) {
        self.sent.lock().expect("counter lock").clear();
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned());
        self.sent.lock().expect("counter lock").push(operation);
        Ok(())
    }
}
