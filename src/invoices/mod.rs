//! Invoices (contract-B §4.10, §7, D5, issue 11): a GST tax invoice for a paid order as an A4 PDF,
//! from the customer's and the admin panel's routes ([`routes`]), one access and availability rule
//! ([`service`]), the layout ([`layout`]) and the renderer ([`pdf`], Noto Sans embedded and subset), Indian amounts and words
//! ([`words`]) and the tax split ([`tax`]).

pub mod layout;
pub mod model;
pub mod pdf;
pub mod repo;
pub mod routes;
pub mod service;
pub mod tax;
pub mod words;

pub use routes::router;
