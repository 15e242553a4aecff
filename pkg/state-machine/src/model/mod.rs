//! The model: what a config says and what the engine takes and gives, as
//! plain values (no rule is compiled or evaluated here).

pub(crate) mod alarm;
pub(crate) mod command;
pub(crate) mod config;
pub(crate) mod state;
