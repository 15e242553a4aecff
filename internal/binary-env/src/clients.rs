//! The AWS SDK config every client of the binaries is built from, with
//! connect, per-attempt and per-operation timeouts.
//!
//! The SDK's defaults for this behaviour version set only a connect timeout:
//! a server that accepts the connection and never answers holds a call
//! forever. Here every call has three bounds: connecting
//! ([`ClientTimeouts::connect`]), one attempt ([`ClientTimeouts::attempt`];
//! a timed-out attempt is retried like any transient failure) and the whole
//! operation with its retries ([`ClientTimeouts::operation`]). Inside a
//! Lambda invocation the handler also cuts whatever is still running at its
//! deadline (see `batch_handler::Handler::handle`), so the time left bounds a
//! call even when it is shorter than these.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{ConfigLoader, SdkConfig};

/// The timeouts of every AWS client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// Establishing a connection (`AWS_CONNECT_TIMEOUT_MS`, default 3 s).
    pub connect: Duration,
    /// One attempt: sending the request and reading the whole answer
    /// (`AWS_ATTEMPT_TIMEOUT_MS`, default 5 s).
    pub attempt: Duration,
    /// One operation, all its attempts and the pauses between them
    /// (`AWS_OPERATION_TIMEOUT_MS`, default 15 s).
    pub operation: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(3),
            attempt: Duration::from_secs(5),
            operation: Duration::from_secs(15),
        }
    }
}

impl ClientTimeouts {
    /// The SDK's form of these timeouts.
    pub fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// Loads the SDK config from `loader` (region, credentials and
/// `AWS_ENDPOINT_URL` as the loader finds them; in the binaries
/// `aws_config::defaults(BehaviorVersion::latest())`) with `timeouts` on
/// every client built from it.
pub async fn load_sdk_config(loader: ConfigLoader, timeouts: &ClientTimeouts) -> SdkConfig {
    loader
        .timeout_config(timeouts.timeout_config())
        .load()
        .await
}

#[cfg(test)]
mod tests {
    use aws_config::BehaviorVersion;

    use super::*;

    #[tokio::test]
    async fn every_client_gets_the_three_timeouts() {
        let timeouts = ClientTimeouts {
            connect: Duration::from_millis(11),
            attempt: Duration::from_millis(22),
            operation: Duration::from_millis(33),
        };
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .no_credentials();
        let sdk = load_sdk_config(loader, &timeouts).await;
        let expected = timeouts.timeout_config();
        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let s3 = aws_sdk_s3::Client::new(&sdk);
        for config in [
            dynamodb.config().timeout_config(),
            sqs.config().timeout_config(),
            s3.config().timeout_config(),
        ] {
            let config = config.expect("a timeout config");
            assert_eq!(config.connect_timeout(), expected.connect_timeout());
            assert_eq!(
                config.operation_attempt_timeout(),
                Some(Duration::from_millis(22))
            );
            assert_eq!(config.operation_timeout(), Some(Duration::from_millis(33)));
        }
    }
}
