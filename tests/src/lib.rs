//! The shared test harness of the workspace (dev-only):
//! - [`conformance`]: the checks every `EventStore` must pass, and the
//!   [`event_store_conformance!`] macro that runs them for one store;
//! - [`config_conformance`]: the same for every `ConfigSource`, with
//!   [`config_source_conformance!`];
//! - [`scenario`]: given/when/then for the batch handler;
//! - [`progress`]: waits bounded by lack of progress, not by total time;
//! - [`black_hole`]: an endpoint that accepts connections and never answers;
//! - [`browser`]: headless Chromium through chromedriver (WebDriver), for
//!   the console;
//! - [`http`]: a server process of one test and a raw HTTP/1.1 client for it
//!   (the HTTP API's hostile-input, load and bench runs);
//! - [`capacity`]: DynamoDB capacity units by AWS's rules, from the wire;
//! - [`stream`]: the table's stream read as Lambda reads it, as Lambda's
//!   event; [`bus`]: an EventBridge rule delivering to a queue;
//! - [`fixtures`]: the files under `tests/fixtures/`.
//!
//! The end-to-end suite (`tests/suite/`) is this crate's one test binary.
#![forbid(unsafe_code)]

pub mod audit;
pub mod aws;
pub mod black_hole;
pub mod browser;
pub mod bus;
pub mod capacity;
pub mod config_conformance;
pub mod conformance;
pub mod fault_proxy;
pub mod faulty;
pub mod http;
pub mod moto;
pub mod progress;
pub mod requests;
pub mod scenario;
pub mod stream;

/// The files under `tests/fixtures/`.
pub mod fixtures {
    use std::path::PathBuf;

    /// The path of a fixture.
    pub fn path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name)
    }

    /// A fixture's text.
    pub fn read(name: &str) -> String {
        let path = path(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
    }
}
