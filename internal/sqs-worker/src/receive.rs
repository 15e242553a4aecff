//! Receiving: one long-polling `ReceiveMessage`, its timeouts stretched by
//! the wait.

use std::time::Duration;

use aws_sdk_sqs::config::timeout::TimeoutConfig;
use aws_sdk_sqs::types::MessageSystemAttributeName;

use crate::errors::WorkerError;
use crate::received::ReceivedMessage;
use crate::worker::Worker;

impl<S, C> Worker<S, C> {
    /// One `ReceiveMessage`. SQS holds a long poll open for up to its wait
    /// time before answering, so this call's attempt and operation timeouts
    /// are the client's plus that wait.
    pub(crate) async fn receive(&self) -> Result<Vec<ReceivedMessage>, WorkerError> {
        let mut request = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.options.max_messages)
            .wait_time_seconds(self.options.wait_time_seconds)
            .set_visibility_timeout(self.options.visibility_timeout)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .customize();
        if let Some(timeouts) = self.sqs.config().timeout_config() {
            request = request.config_override(
                aws_sdk_sqs::config::Builder::default()
                    .timeout_config(long_poll_timeouts(timeouts, self.options.wait_time_seconds)),
            );
        }
        let output = request.send().await.map_err(|e| WorkerError::Receive {
            queue_url: self.queue_url.clone(),
            message: sdk_error::describe(&e),
            source: Box::new(e),
        })?;
        Ok(output
            .messages()
            .iter()
            .enumerate()
            .map(|(i, m)| ReceivedMessage::from_sdk(i, m))
            .collect())
    }
}

/// The client's timeouts with the long poll's wait added to the attempt
/// and operation timeouts it has (none stays none).
fn long_poll_timeouts(client: &TimeoutConfig, wait_time_seconds: i32) -> TimeoutConfig {
    let wait = Duration::from_secs(u64::try_from(wait_time_seconds).unwrap_or(0));
    let mut timeouts = client.to_builder();
    if let Some(attempt) = client.operation_attempt_timeout() {
        timeouts = timeouts.operation_attempt_timeout(attempt + wait);
    }
    if let Some(operation) = client.operation_timeout() {
        timeouts = timeouts.operation_timeout(operation + wait);
    }
    timeouts.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_poll_gets_its_wait_on_top_of_the_timeouts() {
        let client = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(5))
            .operation_timeout(Duration::from_secs(15))
            .build();
        let polled = long_poll_timeouts(&client, 20);
        assert_eq!(polled.connect_timeout(), Some(Duration::from_secs(3)));
        assert_eq!(
            polled.operation_attempt_timeout(),
            Some(Duration::from_secs(25))
        );
        assert_eq!(polled.operation_timeout(), Some(Duration::from_secs(35)));
        let connect_only = TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(3))
            .build();
        let polled = long_poll_timeouts(&connect_only, 20);
        assert_eq!(polled.operation_attempt_timeout(), None);
        assert_eq!(polled.operation_timeout(), None);
    }
}
