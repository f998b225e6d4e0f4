//! Cryptographic building blocks shared by the features: HS256 session tokens compatible with the
//! original backend ([`jwt`]) and password hashing on the dedicated hashing pool ([`password`]).
//! Neither knows what a user is; the `auth` feature decides what goes into them. Also the process's
//! one TLS crypto provider (ring), for every TLS client (PostgreSQL, Redis, Sentry).

pub mod jwt;
pub mod password;

/// Installs ring as the process-wide rustls provider (idempotent). Only ring is compiled in, so TLS
/// clients would pick it anyway; installing it explicitly keeps a dependency's feature change from
/// ever leaving a client without one.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
