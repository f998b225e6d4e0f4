//! The cart (contract-A §5): one cart per user, one line per product, live prices. Customer routes
//! only; the order flow takes and empties it through [`service`] in its own transaction.

pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use routes::router;
