//! The engine against in-memory adapters.

mod alarms;
mod fakes;
mod jsonl;
mod process;
mod tracking;
