//! The cart (contract-A §5): one cart per user, one line per product, live prices. Customer routes
//! only; the order flow reads and empties it through [`repo`] in its own transaction.

pub mod model;
pub mod repo;
pub mod routes;

pub use routes::router;
