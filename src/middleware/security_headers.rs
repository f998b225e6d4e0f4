//! The D22 header set on every response, and the optional HTTP→HTTPS redirect (never for `/health/`).

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::config::Config;

const HSTS: &str = "max-age=31536000; includeSubDomains; preload";
/// No scripts, no frames, no forms; styles and images only from this origin (the error pages).
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()";

/// True when the request reached the platform over HTTPS (`X-Forwarded-Proto: https` from the
/// proxy, unless `TRUST_FORWARDED_PROTO=false`).
pub fn is_https(headers: &HeaderMap, trust_forwarded_proto: bool) -> bool {
    trust_forwarded_proto
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The header set, built once: every value a `HeaderValue` ready to insert.
pub struct SecurityHeaders {
    defaults: [(HeaderName, HeaderValue); 7],
    hsts: HeaderValue,
    no_store: HeaderValue,
}

impl Default for SecurityHeaders {
    fn default() -> Self {
        Self::new()
    }
}

impl SecurityHeaders {
    pub fn new() -> Self {
        Self {
            defaults: [
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("same-origin"),
                ),
                (
                    HeaderName::from_static("cross-origin-opener-policy"),
                    HeaderValue::from_static("same-origin"),
                ),
                (
                    HeaderName::from_static("cross-origin-resource-policy"),
                    HeaderValue::from_static("same-origin"),
                ),
                (
                    HeaderName::from_static("permissions-policy"),
                    HeaderValue::from_static(PERMISSIONS_POLICY),
                ),
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(CSP),
                ),
            ],
            hsts: HeaderValue::from_static(HSTS),
            no_store: HeaderValue::from_static("no-store"),
        }
    }

    /// Adds what a response lacks of the set (a handler's own value wins), HSTS over HTTPS,
    /// `Cache-Control: no-store` on API responses without one; drops `Server` and `X-Powered-By`.
    pub fn apply(&self, headers: &mut HeaderMap, https: bool, api: bool) {
        // Room for the set at once: growing the map one insert at a time rehashed it twice (about
        // 2,800 instructions a request).
        headers.reserve(self.defaults.len() + 4);
        for (name, value) in &self.defaults {
            if let header::Entry::Vacant(slot) = headers.entry(name.clone()) {
                slot.insert(value.clone());
            }
        }
        if https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, self.hsts.clone());
        }
        if api && !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(header::CACHE_CONTROL, self.no_store.clone());
        }
        headers.remove(header::SERVER);
        headers.remove("x-powered-by");
    }
}

/// JSON API paths (error bodies are JSON here, HTML pages elsewhere).
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/api" || path.starts_with("/health")
}

/// The redirect to HTTPS, when `HTTPS_REDIRECT` is on and the request came over HTTP (never for
/// `/health/`, nor without a usable `Host`).
pub fn https_redirect(config: &Config, request: &Request) -> Option<Response> {
    if !config.https_redirect
        || request.uri().path().starts_with("/health")
        || is_https(request.headers(), config.trust_forwarded_proto)
    {
        return None;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| crate::middleware::hosts::is_valid_host(h));
    let host = host?;
    let path_and_query = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("https://{host}{path_and_query}");
    let location = HeaderValue::from_str(&location).ok()?;
    // 301 for reads; 308 keeps the method and body of writes.
    let status = if matches!(*request.method(), Method::GET | Method::HEAD) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Some((status, [(header::LOCATION, location)]).into_response())
}
