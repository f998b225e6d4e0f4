//! Popular products: at most three per product type, in an admin-chosen order.

pub mod repo;
pub mod routes;
