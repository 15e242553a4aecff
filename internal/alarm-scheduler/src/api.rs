//! `CreateSchedule` and `DeleteSchedule`, behind a trait so that the sink
//! can be tested without a network and a test can count or fail calls.

use async_trait::async_trait;
use aws_sdk_scheduler::Client;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    SqsParameters, Target,
};

use crate::decide::{Schedule, TIMEZONE};

/// What `CreateSchedule` came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Created now.
    New,
    /// A schedule of that name was there (`ConflictException`): an earlier
    /// attempt made it. Done.
    AlreadyThere,
}

/// What `DeleteSchedule` came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// Deleted now.
    Gone,
    /// No schedule of that name (`ResourceNotFoundException`): the alarm
    /// was a delayed message, or its schedule fired and deleted itself, or
    /// an earlier attempt deleted it. Done.
    NotThere,
}

/// The two scheduler calls the sink makes.
#[async_trait]
pub trait ScheduleApi: Send + Sync {
    /// Creates `schedule`; `Err` with a one-line description when the
    /// request failed (after the SDK's own retries).
    async fn create(&self, schedule: &Schedule) -> Result<Created, String>;
    /// Deletes the schedule `name` of `group`.
    async fn delete(&self, group: &str, name: &str) -> Result<Deleted, String>;
}

#[async_trait]
impl<T: ScheduleApi + ?Sized> ScheduleApi for std::sync::Arc<T> {
    async fn create(&self, schedule: &Schedule) -> Result<Created, String> {
        (**self).create(schedule).await
    }
    async fn delete(&self, group: &str, name: &str) -> Result<Deleted, String> {
        (**self).delete(group, name).await
    }
}

/// The scheduler through the SDK.
#[derive(Debug, Clone)]
pub struct SdkSchedules {
    client: Client,
}

impl SdkSchedules {
    /// Calls through `client`.
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl ScheduleApi for SdkSchedules {
    async fn create(&self, schedule: &Schedule) -> Result<Created, String> {
        let mut target = Target::builder()
            .arn(&schedule.target_arn)
            .role_arn(&schedule.role_arn)
            .input(&schedule.input)
            .dead_letter_config(DeadLetterConfig::builder().arn(&schedule.dlq_arn).build());
        if let Some(group) = &schedule.message_group {
            target =
                target.sqs_parameters(SqsParameters::builder().message_group_id(group).build());
        }
        let target = target
            .build()
            .map_err(|e| format!("schedule target: {e}"))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| format!("flexible time window: {e}"))?;
        let sent = self
            .client
            .create_schedule()
            .group_name(&schedule.group)
            .name(&schedule.name)
            .schedule_expression(&schedule.expression)
            .schedule_expression_timezone(TIMEZONE)
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .target(target)
            // The name is the alarm's identity: a retry of this request is
            // the same request.
            .client_token(&schedule.name)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Created::New),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conflict_exception()) =>
            {
                Ok(Created::AlreadyThere)
            }
            Err(e) => Err(format!(
                "CreateSchedule failed: {}",
                sdk_error::describe(&e)
            )),
        }
    }

    async fn delete(&self, group: &str, name: &str) -> Result<Deleted, String> {
        let sent = self
            .client
            .delete_schedule()
            .group_name(group)
            .name(name)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(Deleted::Gone),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(Deleted::NotThere)
            }
            Err(e) => Err(format!(
                "DeleteSchedule failed: {}",
                sdk_error::describe(&e)
            )),
        }
    }
}
