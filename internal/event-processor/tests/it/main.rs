//! The engine against in-memory adapters.

mod fakes;
mod jsonl;
mod logs;
mod process;
mod tracking;
