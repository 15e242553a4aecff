//! Logs: JSON lines on stderr, filtered by `RUST_LOG` (default `warn`).

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. An unparsable `RUST_LOG` falls back to `warn`.
pub(crate) fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    // Only fails when a subscriber is already set, which cannot happen here.
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
