//! Reactions (`then`): [`compile`] once with the config, [`evaluate`] for
//! each stored event.

pub(crate) mod compile;
pub(crate) mod evaluate;
