//! Resource fields: the per-product definitions of what a customer hands over after paying.

pub mod repo;
pub mod routes;
