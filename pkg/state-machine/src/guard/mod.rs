//! Guards and `set`: a transition's business rules ([`compile`] once with
//! the config, [`evaluate`] for each command).

pub(crate) mod compile;
pub(crate) mod evaluate;
