//! The verbs' bodies, one file per verb group (a folder beside it when the
//! group has parts); their clap definitions are in `cli`.

pub(crate) mod alarms;
pub(crate) mod config;
pub(crate) mod dlq;
pub(crate) mod exec;
pub(crate) mod ingest;
pub(crate) mod inspect;
pub(crate) mod list;
pub(crate) mod process;
pub(crate) mod react;
pub(crate) mod replay;
pub(crate) mod resend;
pub(crate) mod send;
pub(crate) mod serve;
pub(crate) mod setup;
pub(crate) mod trace;
pub(crate) mod tracking;
pub(crate) mod worker;
