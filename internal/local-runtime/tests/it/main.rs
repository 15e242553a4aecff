//! The local runtime driven as a library (no CLI): over an embedded store
//! in a temporary directory and the configs of `config/`.

mod alarms;
mod pending;
mod publisher;
mod replay;
mod rounds;
mod saga;
mod setup;
