//! The end-to-end suite: one test binary, sharing the `testkit` harness.

mod conformance_sqlite;
mod emulator;
mod faults;
mod handler;
mod properties;
