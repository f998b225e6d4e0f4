//! Product images: upload, reorder, primary, update, delete, and the secure-file route.

pub mod repo;
pub mod routes;
