//! Bindings (`bindings`): outside events that become commands.
//! [`compile`] once with the config, [`evaluate`] for each event.

pub(crate) mod compile;
pub(crate) mod evaluate;
