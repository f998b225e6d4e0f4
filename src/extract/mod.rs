//! Request extractors that answer in the contract's error shapes instead of axum's plain-text rejections:
//! the client's address and base URL here, bodies in [`body`], query strings in [`query`], typed path
//! parameters in [`path`] and DRF's page-number pagination in [`page`].

pub mod body;
pub mod page;
pub mod path;
pub mod query;

pub use body::{Body, ErrorBody, SuccessBody};
pub use page::{Page, PageQuery};
pub use path::{Id, Pk, ProductId};
pub use query::Query;

use std::net::SocketAddr;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use crate::{
    middleware::security_headers::is_https, ratelimit::resolve_client_ip, state::AppState,
};

/// The client's IP address, from the source the deployment configures (`CLIENT_IP_SOURCE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientIp(resolve_client_ip(
            state.config.client_ip_source,
            &parts.headers,
            peer,
        )))
    }
}

/// `scheme://host` of this request, for the absolute URLs the contract returns (pagination links,
/// image URLs). HTTPS when the proxy says so; the forwarded host when forwarded headers are trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(pub String);

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let trust = state.config.trust_forwarded_proto;
        let scheme = if is_https(&parts.headers, trust) {
            "https"
        } else {
            "http"
        };
        let header_host = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(str::trim)
                .filter(|h| crate::middleware::hosts::is_valid_host(h))
        };
        let host = trust
            .then(|| header_host("x-forwarded-host"))
            .flatten()
            .or_else(|| header_host("host"))
            .or_else(|| parts.uri.host())
            .unwrap_or("localhost");
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}
