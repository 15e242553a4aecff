//! The binaries' logs: JSON lines through `tracing`, one object per line
//! with the event's fields at the top level, filtered by `RUST_LOG`
//! (`info` when it is unset or invalid: an `EnvFilter` from an empty
//! environment would show errors only).

use tracing_subscriber::EnvFilter;

/// Installs the JSON-lines subscriber for the whole process.
pub fn init_json_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_env_filter(filter)
        .init();
}
