//! The engine against in-memory adapters.

mod fakes;
mod jsonl;
mod process;
mod tracking;
