//! Identity: accounts, passwords, tokens, roles and the routes under `/api/auth/`.

pub mod extract;
pub mod jwt;
pub mod model;
pub mod password;
pub mod repo;
mod routes;
pub mod service;

pub use extract::{AdminUser, AuthUser, MaybeUser, StaffUser};
pub use routes::router;
