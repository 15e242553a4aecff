//! What every binary (the three Lambdas, `cmd/command-handler`,
//! `cmd/event-processor-lambda` and `cmd/http-api`, and `cmdctl`) reads from
//! its environment and
//! sets up the same way, so that they behave alike:
//!
//! - [`knobs`]: `HANDLER_CONCURRENCY`, `MAX_CONFLICT_ATTEMPTS`,
//!   `CONFIG_CACHE_SECONDS`, `DEADLINE_MARGIN_MS` and the AWS clients'
//!   timeouts (`AWS_CONNECT_TIMEOUT_MS`, `AWS_ATTEMPT_TIMEOUT_MS`,
//!   `AWS_OPERATION_TIMEOUT_MS`), parsed by one pure function over a lookup;
//! - [`vars`]: a variable set and not empty, or missing;
//! - [`clients`]: the SDK config with those timeouts on every client (the
//!   SDK's own defaults give only a connect timeout, so a server that
//!   accepts a request and never answers would hold a call forever);
//! - [`logs`]: the JSON-lines log subscriber every Lambda installs.
//!
//! Each Lambda's own wiring is its own crate (`command-lambda`,
//! `processor-lambda`, `http-lambda`), so none links another's clients.
//! What this crate may depend on: the engines' option types and the SDK's
//! config (`aws-config`); never an SDK client or an adapter, so that every
//! wiring can use it.
//!
//! ```
//! let knobs = binary_env::Knobs::from_lookup(|name| match name {
//!     "HANDLER_CONCURRENCY" => Some("4".to_owned()),
//!     _ => None,
//! })
//! .unwrap();
//! assert_eq!(knobs.handler.concurrency, 4);
//! assert!(binary_env::Knobs::from_lookup(|_| Some("many".to_owned())).is_err());
//! ```
#![forbid(unsafe_code)]

pub mod clients;
pub mod knobs;
pub mod logs;
pub mod vars;

pub use clients::{ClientTimeouts, load_sdk_config};
pub use knobs::{KnobError, Knobs};
pub use vars::LambdaEnvError;
