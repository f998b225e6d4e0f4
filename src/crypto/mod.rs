//! Cryptographic building blocks shared by the features: HS256 session tokens compatible with the
//! original backend ([`jwt`]) and password hashing on the dedicated hashing pool ([`password`]).
//! Neither knows what a user is; the `auth` feature decides what goes into them.

pub mod jwt;
pub mod password;
