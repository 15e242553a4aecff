//! The engine against in-memory adapters.

mod alarms;
mod fakes;
mod process;
mod tracking;
