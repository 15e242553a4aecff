//! The `cmdctl` binary, run as a user runs it: every test has its own store
//! in a temporary directory and reads the repository's `config/` and
//! `tests/fixtures/`. The AWS tests run it against moto (the `testkit`
//! harness), each with its own table, bucket and queues. One test binary;
//! [`harness`] is what the files share.

mod alarms;
mod alarms_stale;
mod aws;
mod config;
mod console;
mod dlq;
mod errors;
mod exec;
mod harness;
mod history;
mod ingest;
mod local_task;
mod pending;
mod process;
mod quick_start;
mod react;
mod readme_graph;
mod readme_http;
mod readme_ingest;
mod resend;
mod reservation_timeout;
mod saga;
mod saga_ingest;
mod saga_property;
mod send_file;
mod serve;
mod serve_bad_input;
mod serve_load;
mod serve_slow;
mod tour;
mod trace_versions;
