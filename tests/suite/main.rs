//! The end-to-end suite: one test binary, sharing the `testkit` harness.

mod alarms_moto;
mod bad_input;
mod bindings;
mod config_conformance;
mod config_s3;
mod conformance_dynamodb;
mod conformance_sqlite;
mod deploy;
mod emulator;
mod faults;
mod handler;
mod http_lambda;
mod hung_endpoint;
mod lambda;
mod operator;
mod processor;
mod properties;
mod saga_moto;
mod sdk_retries;
mod soak_embedded;
mod soak_moto;
mod table_check;
mod worker;
