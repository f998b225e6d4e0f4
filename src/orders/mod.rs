//! Orders (contract-B §2.1–2.2, §4.1–4.3, §12): placing one from the cart, the customer's views,
//! and the one status machine every status change goes through. The checkout route that also
//! creates the gateway order lives in `payments` (it calls [`service::place_from_cart`]).

pub mod derived;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;
pub mod status;

pub use routes::router;
