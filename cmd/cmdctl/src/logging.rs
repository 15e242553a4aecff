//! Logs on stderr. JSON lines filtered by `RUST_LOG` (default `warn`), as
//! on Lambda, when stderr is not a terminal (a pipe, a file, a test) or
//! `RUST_LOG` is set. On a terminal with no `RUST_LOG`, only errors, in a
//! short human form: the verb's own output already names every message
//! refused and why (the outcome lines), so the warnings would only repeat
//! it after the answer.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How the logs are written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Logs {
    /// JSON lines (else the human form).
    pub(crate) json: bool,
    /// The filter.
    pub(crate) filter: String,
}

/// The choice for a stderr that is (or not) a terminal and a `RUST_LOG`
/// (when set and not empty).
pub(crate) fn choose(terminal: bool, rust_log: Option<&str>) -> Logs {
    match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        Some(filter) => Logs {
            json: true,
            filter: filter.to_owned(),
        },
        None if terminal => Logs {
            json: false,
            filter: "error".to_owned(),
        },
        None => Logs {
            json: true,
            filter: "warn".to_owned(),
        },
    }
}

/// Installs the subscriber. An unparsable `RUST_LOG` falls back to `warn`.
pub(crate) fn init() {
    let rust_log = std::env::var(EnvFilter::DEFAULT_ENV).ok();
    let logs = choose(std::io::stderr().is_terminal(), rust_log.as_deref());
    let filter = EnvFilter::try_new(&logs.filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    // Only fails when a subscriber is already set, which cannot happen here.
    let _ = if logs.json {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
    } else {
        tracing_subscriber::fmt()
            .compact()
            .without_time()
            .with_target(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_gets_only_errors_unless_rust_log_asks() {
        assert_eq!(
            choose(true, None),
            Logs {
                json: false,
                filter: "error".into()
            }
        );
        assert_eq!(choose(true, Some("  ")), choose(true, None));
        assert_eq!(
            choose(true, Some("info")),
            Logs {
                json: true,
                filter: "info".into()
            }
        );
    }

    #[test]
    fn a_pipe_gets_json_warnings_as_lambda_does() {
        assert_eq!(
            choose(false, None),
            Logs {
                json: true,
                filter: "warn".into()
            }
        );
        assert_eq!(
            choose(false, Some("debug")),
            Logs {
                json: true,
                filter: "debug".into()
            }
        );
    }
}
