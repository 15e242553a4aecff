//! In-memory doubles of the engines' traits, for tests only, below the
//! harness (`testkit` depends on nearly everything; this crate on the two
//! crates whose traits it implements): an engine's own tests use it as a
//! dev-dependency, and so does the harness.
//!
//! - [`MemoryConfigs`]: a [`ConfigSource`](handler_core::ConfigSource) over
//!   compiled machines, which can be made unreadable per type;
//! - [`MemoryFailures`]: a [`FailureLog`](handler_core::FailureLog) that keeps
//!   the records and can be down;
//! - [`Accepting`]: a [`Publisher`](event_processor::Publisher) ([`Bus`]) and
//!   a [`CommandSink`](event_processor::CommandSink) ([`Queue`]) that keep
//!   what they accept and refuse the ids they are told to;
//! - [`LogBuffer`]: a writer for a `tracing` subscriber, read back as text;
//! - [`error_chain`]: an error and its sources, as one line.
#![forbid(unsafe_code)]

mod configs;
mod delivery;
mod errors;
mod failures;
mod logs;

pub use configs::MemoryConfigs;
pub use delivery::{Accepting, Bus, Queue};
pub use errors::error_chain;
pub use failures::MemoryFailures;
pub use logs::LogBuffer;
