//! What a schedule needs from the deployment: the group it is created in,
//! the role the scheduler sends with, the queue it sends to and the
//! dead-letter queue of its target. Each comes from an environment variable
//! (docs/reference.md §7); one that is not set makes every alarm that needs
//! a schedule fail its event with a reason naming the variable.

/// One setting and the variable it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The environment variable (named in reasons).
    pub variable: &'static str,
    /// Its value; `None` when unset or empty.
    pub value: Option<String>,
}

impl Setting {
    /// `variable` with `value` (an empty value counts as unset).
    pub fn new(variable: &'static str, value: Option<String>) -> Self {
        Self {
            variable,
            value: value.filter(|v| !v.is_empty()),
        }
    }

    fn get(&self) -> Result<&str, &'static str> {
        self.value.as_deref().ok_or(self.variable)
    }
}

/// Everything a schedule needs; see the [module](self) documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// The schedule group (`SCHEDULE_GROUP_NAME`).
    pub group: Setting,
    /// The role EventBridge Scheduler sends with (`SCHEDULER_ROLE_ARN`).
    pub role_arn: Setting,
    /// The command queue's ARN, the schedules' target (`COMMAND_QUEUE_ARN`).
    pub queue_arn: Setting,
    /// The target's dead-letter queue (`SCHEDULE_DLQ_ARN`).
    pub dlq_arn: Setting,
}

/// The settings, all present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleTarget<'a> {
    /// The schedule group.
    pub group: &'a str,
    /// The role EventBridge Scheduler sends with.
    pub role_arn: &'a str,
    /// The command queue's ARN.
    pub queue_arn: &'a str,
    /// The target's dead-letter queue's ARN.
    pub dlq_arn: &'a str,
}

impl ScheduleSettings {
    /// All four, or the variable of the first one missing.
    pub fn target(&self) -> Result<ScheduleTarget<'_>, &'static str> {
        Ok(ScheduleTarget {
            group: self.group.get()?,
            role_arn: self.role_arn.get()?,
            queue_arn: self.queue_arn.get()?,
            dlq_arn: self.dlq_arn.get()?,
        })
    }

    /// The variables not set, in the order above.
    pub fn missing(&self) -> Vec<&'static str> {
        [&self.group, &self.role_arn, &self.queue_arn, &self.dlq_arn]
            .into_iter()
            .filter(|s| s.value.is_none())
            .map(|s| s.variable)
            .collect()
    }

    /// The group, when set: where a cleared alarm's schedule would be.
    pub fn group(&self) -> Option<&str> {
        self.group.value.as_deref()
    }
}
