//! Campaign resources (contract-B §2.3–2.4, §4.5–4.9, §6, issue 10): what a customer hands over
//! after paying — the dynamic per-product form ([`routes`]), the uploaded files behind
//! `/api/secure-files/` ([`files`]), and the completion rule ([`service`]).

pub mod admin;
pub mod files;
pub mod form;
pub mod legacy;
pub mod model;
pub mod repo;
pub mod routes;
pub mod service;

pub use routes::router;
