//! The knobs both binaries take from the environment, parsed by one pure
//! function ([`Knobs::from_lookup`]) so that the Lambda and `cmdctl worker`
//! cannot read them differently. An empty or unset variable takes its
//! default; anything else must be a whole number in the knob's range, or
//! the binary refuses to start with an error naming the variable.

use std::time::Duration;

use batch_handler::{HandlerOptions, RetryPolicy};

use crate::clients::ClientTimeouts;

/// A knob whose value is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value:?} is not valid: expected a whole number from {min} to {max} ({unit})")]
pub struct KnobError {
    /// The variable.
    pub name: &'static str,
    /// Its value, as found.
    pub value: String,
    /// The smallest value accepted.
    pub min: u64,
    /// The largest value accepted.
    pub max: u64,
    /// What the number counts.
    pub unit: &'static str,
}

/// One knob: its variable, range and unit.
struct Knob {
    name: &'static str,
    min: u64,
    max: u64,
    unit: &'static str,
}

/// Fifteen minutes, Lambda's longest timeout: no wait needs to be longer.
const FIFTEEN_MINUTES_MS: u64 = 15 * 60 * 1000;

const HANDLER_CONCURRENCY: Knob = Knob {
    name: "HANDLER_CONCURRENCY",
    min: 1,
    max: 1000,
    unit: "aggregates at once",
};
const MAX_CONFLICT_ATTEMPTS: Knob = Knob {
    name: "MAX_CONFLICT_ATTEMPTS",
    min: 1,
    max: 100,
    unit: "attempts",
};
const CONFIG_CACHE_SECONDS: Knob = Knob {
    name: "CONFIG_CACHE_SECONDS",
    min: 0,
    max: 86_400,
    unit: "seconds",
};
const DEADLINE_MARGIN_MS: Knob = Knob {
    name: "DEADLINE_MARGIN_MS",
    min: 0,
    max: FIFTEEN_MINUTES_MS,
    unit: "milliseconds",
};
const AWS_CONNECT_TIMEOUT_MS: Knob = Knob {
    name: "AWS_CONNECT_TIMEOUT_MS",
    min: 1,
    max: FIFTEEN_MINUTES_MS,
    unit: "milliseconds",
};
const AWS_ATTEMPT_TIMEOUT_MS: Knob = Knob {
    name: "AWS_ATTEMPT_TIMEOUT_MS",
    min: 1,
    max: FIFTEEN_MINUTES_MS,
    unit: "milliseconds",
};
const AWS_OPERATION_TIMEOUT_MS: Knob = Knob {
    name: "AWS_OPERATION_TIMEOUT_MS",
    min: 1,
    max: FIFTEEN_MINUTES_MS,
    unit: "milliseconds",
};

/// How long a config is used before S3 is asked again (by ETag), unless
/// `CONFIG_CACHE_SECONDS` says otherwise.
pub const DEFAULT_CONFIG_CACHE: Duration = Duration::from_secs(60);

/// Every knob, with its default when unset.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// `HANDLER_CONCURRENCY`, `MAX_CONFLICT_ATTEMPTS`, `DEADLINE_MARGIN_MS`
    /// (the other options keep [`HandlerOptions::default`]).
    pub handler: HandlerOptions,
    /// `CONFIG_CACHE_SECONDS`: how long an S3 config is used before it is
    /// revalidated by ETag.
    pub config_cache: Duration,
    /// `AWS_CONNECT_TIMEOUT_MS`, `AWS_ATTEMPT_TIMEOUT_MS`,
    /// `AWS_OPERATION_TIMEOUT_MS`: the timeouts of every AWS client.
    pub timeouts: ClientTimeouts,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            handler: HandlerOptions::default(),
            config_cache: DEFAULT_CONFIG_CACHE,
            timeouts: ClientTimeouts::default(),
        }
    }
}

impl Knobs {
    /// The knobs from `lookup` (the environment: `|name|
    /// std::env::var(name).ok()`); the first invalid one is the error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, KnobError> {
        let defaults = Knobs::default();
        let number = |knob: &Knob, default: u64| -> Result<u64, KnobError> {
            let Some(value) = lookup(knob.name).filter(|v| !v.is_empty()) else {
                return Ok(default);
            };
            value
                .parse::<u64>()
                .ok()
                .filter(|n| (knob.min..=knob.max).contains(n))
                .ok_or(KnobError {
                    name: knob.name,
                    value,
                    min: knob.min,
                    max: knob.max,
                    unit: knob.unit,
                })
        };
        let millis = |knob: &Knob, default: Duration| -> Result<Duration, KnobError> {
            number(knob, u64::try_from(default.as_millis()).unwrap_or(u64::MAX))
                .map(Duration::from_millis)
        };
        let handler = HandlerOptions {
            concurrency: number(&HANDLER_CONCURRENCY, defaults.handler.concurrency as u64)?
                as usize,
            retry: RetryPolicy {
                max_attempts: number(
                    &MAX_CONFLICT_ATTEMPTS,
                    u64::from(defaults.handler.retry.max_attempts),
                )? as u32,
                ..defaults.handler.retry
            },
            deadline_margin: millis(&DEADLINE_MARGIN_MS, defaults.handler.deadline_margin)?,
        };
        let config_cache = Duration::from_secs(number(
            &CONFIG_CACHE_SECONDS,
            defaults.config_cache.as_secs(),
        )?);
        let timeouts = ClientTimeouts {
            connect: millis(&AWS_CONNECT_TIMEOUT_MS, defaults.timeouts.connect)?,
            attempt: millis(&AWS_ATTEMPT_TIMEOUT_MS, defaults.timeouts.attempt)?,
            operation: millis(&AWS_OPERATION_TIMEOUT_MS, defaults.timeouts.operation)?,
        };
        Ok(Self {
            handler,
            config_cache,
            timeouts,
        })
    }

    /// The knobs from the process environment.
    pub fn from_env() -> Result<Self, KnobError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Knobs, KnobError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Knobs::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn unset_and_empty_take_the_defaults() {
        for knobs in [
            parse(&[]).unwrap(),
            parse(&[("HANDLER_CONCURRENCY", ""), ("AWS_ATTEMPT_TIMEOUT_MS", "")]).unwrap(),
        ] {
            assert_eq!(knobs.handler.concurrency, 100);
            assert_eq!(knobs.handler.retry.max_attempts, 5);
            assert_eq!(knobs.handler.deadline_margin, Duration::from_secs(2));
            assert_eq!(knobs.config_cache, Duration::from_secs(60));
            assert_eq!(knobs.timeouts, ClientTimeouts::default());
        }
    }

    #[test]
    fn every_knob_is_read() {
        let knobs = parse(&[
            ("HANDLER_CONCURRENCY", "3"),
            ("MAX_CONFLICT_ATTEMPTS", "9"),
            ("CONFIG_CACHE_SECONDS", "0"),
            ("DEADLINE_MARGIN_MS", "750"),
            ("AWS_CONNECT_TIMEOUT_MS", "100"),
            ("AWS_ATTEMPT_TIMEOUT_MS", "200"),
            ("AWS_OPERATION_TIMEOUT_MS", "300"),
        ])
        .unwrap();
        assert_eq!(knobs.handler.concurrency, 3);
        assert_eq!(knobs.handler.retry.max_attempts, 9);
        assert_eq!(knobs.config_cache, Duration::ZERO);
        assert_eq!(knobs.handler.deadline_margin, Duration::from_millis(750));
        assert_eq!(
            knobs.timeouts,
            ClientTimeouts {
                connect: Duration::from_millis(100),
                attempt: Duration::from_millis(200),
                operation: Duration::from_millis(300),
            }
        );
        // The options not read from the environment keep their defaults.
        let defaults = HandlerOptions::default();
        assert_eq!(knobs.handler.retry.base_delay, defaults.retry.base_delay);
        assert_eq!(knobs.handler.retry.max_delay, defaults.retry.max_delay);
    }

    #[test]
    fn an_invalid_value_names_its_variable() {
        for (name, value) in [
            ("HANDLER_CONCURRENCY", "0"),
            ("HANDLER_CONCURRENCY", "sixteen"),
            ("MAX_CONFLICT_ATTEMPTS", "-1"),
            ("MAX_CONFLICT_ATTEMPTS", "0"),
            ("CONFIG_CACHE_SECONDS", "1.5"),
            ("DEADLINE_MARGIN_MS", " 2000"),
            ("DEADLINE_MARGIN_MS", "900001"),
            ("AWS_CONNECT_TIMEOUT_MS", "0"),
            ("AWS_ATTEMPT_TIMEOUT_MS", "5s"),
            ("AWS_OPERATION_TIMEOUT_MS", "99999999999999999999999"),
        ] {
            let err = parse(&[(name, value)]).unwrap_err();
            assert_eq!((err.name, err.value.as_str()), (name, value));
            let text = err.to_string();
            assert!(
                text.starts_with(name) && text.contains("whole number"),
                "{text}"
            );
        }
    }
}
