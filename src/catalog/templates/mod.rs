//! Checklist templates: the per-product steps fulfilment staff follow.

pub mod repo;
pub mod routes;
