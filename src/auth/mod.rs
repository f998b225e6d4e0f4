//! Identity: accounts, passwords, tokens, roles and the routes under `/api/auth/`.

pub mod cache;
pub mod extract;
pub mod model;
pub mod policy;
pub mod repo;
mod routes;
pub mod service;

pub use extract::{AdminUser, AuthUser, MaybeUser, StaffUser, authenticate_token};
pub use routes::router;
