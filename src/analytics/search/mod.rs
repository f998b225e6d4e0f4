//! Global search for the admin SPA's top bar (`GET /api/admin/search/?q=`, clients.md §2.10): orders
//! (by number or customer), customers, products and staff, each a short list of
//! `{type, id, title, subtitle, url}` whose `url` is the SPA's own route.

pub mod repo;
pub mod routes;

pub use routes::router;
