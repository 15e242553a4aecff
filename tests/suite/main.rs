//! The end-to-end suite: one test binary, sharing the `testkit` harness.

mod config_s3;
mod conformance_dynamodb;
mod conformance_sqlite;
mod emulator;
mod faults;
mod handler;
mod lambda;
mod properties;
mod worker;
