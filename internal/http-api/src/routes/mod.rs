//! The routes, one module per resource, each handler annotated for the
//! OpenAPI document.

pub(crate) mod aggregates;
pub(crate) mod body;
pub(crate) mod commands;
pub(crate) mod health;
pub(crate) mod traces;
pub(crate) mod types;
