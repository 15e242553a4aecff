//! Alarms: [`compile`] once with the config (`alarms`, `expiry`),
//! [`evaluate`] for each accepted command (what it sets and clears) and for
//! each due alarm (the command it sends).

pub(crate) mod compile;
pub(crate) mod evaluate;
